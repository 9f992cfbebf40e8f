// Starts @simulacrum/github-api-simulator (installed by scripts/setup-integration.sh) on
// 127.0.0.1 on a free port and prints
// `PORT <n>` when it listens. Usage: node github-sim.mjs <node_modules dir>
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const entry = path.join(modules, "@simulacrum/github-api-simulator/dist/index.mjs");
const { simulation } = await import(pathToFileURL(entry).href);

// Without initial state every REST route answers with the examples of GitHub's own OpenAPI
// description (api.github.com.json, shipped in the package). (0.8.0 cannot take blobs in its
// initial state: it keys them by an `id` its schema strips.)
const app = simulation();
const { port } = await app.listen(0, "127.0.0.1");
console.log(`PORT ${port}`);
