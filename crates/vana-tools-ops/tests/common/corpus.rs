//! A generated repository corpus for the secret scanners: realistic files (code, config, env
//! files, scripts, docs, a key file) with planted secrets of every kind the issue names, each
//! with a fresh random value from a seeded generator, plus decoys that are not secrets
//! (placeholders, environment references, template holes, hashes in lock files). The ground
//! truth (file, line, kind) is known by construction. Shared by the tests and the benchmark.
#![allow(dead_code)]

/// SplitMix64 for reproducible data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn string(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n).map(|_| a[self.below(a.len())] as char).collect()
    }
}

pub const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const HEX: &str = "0123456789abcdef";

/// One planted secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    pub file: String,
    pub line: usize,
    pub kind: &'static str,
}

/// A file under construction.
pub struct FileBuilder {
    pub name: String,
    pub lines: Vec<String>,
    pub planted: Vec<Planted>,
    pub decoys: Vec<usize>,
}

impl FileBuilder {
    pub fn new(name: &str) -> Self {
        FileBuilder { name: name.into(), lines: Vec::new(), planted: Vec::new(), decoys: Vec::new() }
    }
    pub fn line(&mut self, text: impl Into<String>) -> &mut Self {
        for l in text.into().split('\n') {
            self.lines.push(l.to_string());
        }
        self
    }
    pub fn secret(&mut self, kind: &'static str, text: impl Into<String>) -> &mut Self {
        self.lines.push(text.into());
        self.planted.push(Planted { file: self.name.clone(), line: self.lines.len(), kind });
        self
    }
    pub fn decoy(&mut self, text: impl Into<String>) -> &mut Self {
        self.lines.push(text.into());
        self.decoys.push(self.lines.len());
        self
    }
    pub fn text(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}

/// Secrets of each kind with fresh values.
pub struct Secrets<'a>(pub &'a mut Rng);

impl Secrets<'_> {
    pub fn aws_id(&mut self) -> String {
        format!("AKIA{}", self.0.string(UPPER_DIGITS, 16))
    }
    pub fn aws_secret(&mut self) -> String {
        self.0.string(B64, 40)
    }
    pub fn github(&mut self) -> String {
        let p = self.0.pick(&["ghp", "gho"]);
        format!("{p}_{}", self.0.string(ALNUM, 36))
    }
    pub fn github_pat(&mut self) -> String {
        format!("github_pat_{}_{}", self.0.string(ALNUM, 22), self.0.string(ALNUM, 59))
    }
    pub fn slack(&mut self) -> String {
        format!(
            "xoxb-{}-{}-{}",
            self.0.string("0123456789", 12),
            self.0.string("0123456789", 13),
            self.0.string(ALNUM, 24)
        )
    }
    pub fn stripe(&mut self) -> String {
        format!("sk_live_{}", self.0.string(ALNUM, 24))
    }
    pub fn google(&mut self) -> String {
        format!("AIza{}", self.0.string(URLSAFE, 35))
    }
    pub fn openai(&mut self) -> String {
        format!("sk-proj-{}T3BlbkFJ{}", self.0.string(URLSAFE, 20), self.0.string(URLSAFE, 20))
    }
    pub fn jwt(&mut self) -> String {
        let payload = format!("eyJzdWIiOiI{}", self.0.string(URLSAFE, 30));
        format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.{}", self.0.string(URLSAFE, 43))
    }
    pub fn password(&mut self) -> String {
        format!(
            "{}{}!{}",
            self.0.pick(&["Summer", "Blue", "Delta", "Orchid"]),
            self.0.below(9000) + 1000,
            self.0.string(ALNUM, 6)
        )
    }
    pub fn b64(&mut self, n: usize) -> String {
        self.0.string(B64, n)
    }
    pub fn hex(&mut self, n: usize) -> String {
        self.0.string(HEX, n)
    }
    pub fn pem(&mut self) -> Vec<String> {
        let mut v = vec!["-----BEGIN RSA PRIVATE KEY-----".to_string()];
        for _ in 0..12 {
            v.push(self.0.string(B64, 64));
        }
        v.push("-----END RSA PRIVATE KEY-----".into());
        v
    }
}

/// Ordinary code with no secrets, `n` lines, in the style of `ext`.
pub fn filler(rng: &mut Rng, ext: &str, n: usize) -> String {
    let words = [
        "user", "order", "item", "count", "total", "name", "value", "index", "result", "config", "buffer",
        "request",
    ];
    let mut out = String::new();
    for i in 0..n {
        let a = rng.pick(&words);
        let b = rng.pick(&words);
        let line = match ext {
            "py" => format!("    {a}_{i} = compute_{b}({a}, {})  # update the {b}", rng.below(100)),
            "js" | "ts" => format!("  const {a}{i} = compute{b}({a}, {}); // update the {b}", rng.below(100)),
            "go" => format!("\t{a}{i} := compute{b}({a}, {}) // update the {b}", rng.below(100)),
            "yaml" | "yml" => format!("  {a}_{i}: {}", rng.below(10000)),
            "md" => {
                format!("The {a} is passed to the {b} handler, which returns a {} value.", rng.pick(&words))
            }
            _ => format!("{a}_{i}={}", rng.below(10000)),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The fixture repository: files (name, text) and the ground truth.
pub struct Corpus {
    pub files: Vec<(String, String)>,
    pub planted: Vec<Planted>,
    pub decoys: Vec<(String, usize)>,
}

pub fn repository(seed: u64) -> Corpus {
    let mut rng = Rng(seed);
    let mut files: Vec<FileBuilder> = Vec::new();

    let mut f = FileBuilder::new("app/settings.py");
    let (id, secret) = {
        let mut s = Secrets(&mut rng);
        (s.aws_id(), s.aws_secret())
    };
    let pw = Secrets(&mut rng).password();
    f.line("import os\n\nDEBUG = False\nALLOWED_HOSTS = [\"app.example.org\"]")
        .secret("aws-access-key-id", format!("AWS_ACCESS_KEY_ID = \"{id}\""))
        .secret("aws-secret-access-key", format!("AWS_SECRET_ACCESS_KEY = \"{secret}\""))
        .secret("password", format!("DATABASE_PASSWORD = \"{pw}\""))
        .decoy("EMAIL_PASSWORD = os.environ[\"EMAIL_PASSWORD\"]")
        .decoy("SECRET_KEY = os.getenv(\"DJANGO_SECRET_KEY\")")
        .line(filler(&mut rng, "py", 40));
    files.push(f);

    let mut f = FileBuilder::new(".env");
    let (stripe, slack, pw) = {
        let mut s = Secrets(&mut rng);
        (s.stripe(), s.slack(), s.password())
    };
    f.line("NODE_ENV=production\nPORT=8080")
        .secret("stripe", format!("STRIPE_SECRET_KEY={stripe}"))
        .secret("slack", format!("SLACK_BOT_TOKEN={slack}"))
        .secret("url-credentials", format!("DATABASE_URL=postgres://app:{pw}@db.internal:5432/app"))
        .decoy("REDIS_URL=redis://localhost:6379/0")
        .decoy("API_KEY=${API_KEY}");
    files.push(f);

    let mut f = FileBuilder::new("deploy/config.yaml");
    let (gh, pw) = {
        let mut s = Secrets(&mut rng);
        (s.github(), s.password())
    };
    f.line("service:\n  name: billing\n  replicas: 3\ndatabase:\n  host: db.internal\n  user: billing")
        .secret("password", format!("  password: {pw}"))
        .decoy("  password_file: /run/secrets/db")
        .line("ci:")
        .secret("github", format!("  token: {gh}"))
        .decoy("  api_key: \"{{ vault_api_key }}\"")
        .line(filler(&mut rng, "yaml", 30));
    files.push(f);

    let mut f = FileBuilder::new("web/src/client.js");
    let (google, openai) = {
        let mut s = Secrets(&mut rng);
        (s.google(), s.openai())
    };
    f.line("import axios from 'axios';\n")
        .secret("google", format!("const MAPS_KEY = \"{google}\";"))
        .secret("openai", format!("const openai = new OpenAI({{ apiKey: '{openai}' }});"))
        .decoy("const apiKey = process.env.API_KEY;")
        .decoy("const password = form.password.value;")
        .line("export function load() {")
        .line(filler(&mut rng, "js", 60))
        .line("}");
    files.push(f);

    let mut f = FileBuilder::new("deploy/keys/id_rsa");
    let pem = Secrets(&mut rng).pem();
    f.secret("private-key", pem[0].clone());
    for l in &pem[1..] {
        f.line(l.clone());
    }
    files.push(f);

    let mut f = FileBuilder::new("services/auth/token_test.go");
    let jwt = Secrets(&mut rng).jwt();
    f.line("package auth\n\nimport \"testing\"\n\nfunc TestParse(t *testing.T) {")
        .secret("jwt", format!("\ttok := \"{jwt}\""))
        .line("\tif _, err := Parse(tok); err != nil {\n\t\tt.Fatal(err)\n\t}\n}")
        .line(filler(&mut rng, "go", 40));
    files.push(f);

    let mut f = FileBuilder::new("config/production.json");
    let (pw, key) = {
        let mut s = Secrets(&mut rng);
        (s.password(), s.b64(32))
    };
    f.line("{\n  \"name\": \"billing\",\n  \"port\": 8080,")
        .secret("password", format!("  \"db_password\": \"{pw}\","))
        .secret("high-entropy", format!("  \"signing_key\": \"{key}\","))
        .decoy("  \"password_min_length\": 12,")
        .line("  \"timeout\": 30\n}");
    files.push(f);

    let mut f = FileBuilder::new("scripts/release.sh");
    let (pat, npm) = {
        let mut s = Secrets(&mut rng);
        let pat = s.github_pat();
        (pat, format!("npm_{}", s.0.string(ALNUM, 36)))
    };
    f.line("#!/bin/bash\nset -euo pipefail")
        .secret("github", format!("export GITHUB_TOKEN={pat}"))
        .secret("npm", format!("echo \"//registry.npmjs.org/:_authToken={npm}\" > ~/.npmrc"))
        .decoy("export AWS_PROFILE=release")
        .line("npm publish\ngh release create \"$1\"");
    files.push(f);

    let mut f = FileBuilder::new("app/crypto.py");
    let (b64, hex) = {
        let mut s = Secrets(&mut rng);
        (s.b64(44), s.hex(40))
    };
    f.line("import hmac\n")
        .secret("high-entropy", format!("WEBHOOK_SIGNING = \"{b64}\""))
        .secret("high-entropy", format!("LEGACY_HMAC = '{hex}'"))
        .decoy("ALGORITHM = \"HS256\"")
        .line(filler(&mut rng, "py", 30));
    files.push(f);

    let mut f = FileBuilder::new("docs/setup.md");
    let aws = Secrets(&mut rng).aws_id();
    f.line("# Setup\n\nExport your credentials before running the tool:\n")
        .decoy("    export AWS_ACCESS_KEY_ID=<your access key id>")
        .line("An old key that was pasted here by mistake:")
        .secret("aws-access-key-id", format!("    aws_access_key_id = {aws}"))
        .line(filler(&mut rng, "md", 20));
    files.push(f);

    let mut f = FileBuilder::new("package-lock.json");
    f.line("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/left-pad\": {");
    let integrity = Secrets(&mut rng).b64(86);
    f.decoy(format!("      \"integrity\": \"sha512-{integrity}==\""));
    f.line("    }\n  }\n}");
    files.push(f);

    // Ordinary files with nothing in them.
    for (i, ext) in ["py", "js", "go", "yaml", "md", "py", "js", "ts"].iter().enumerate() {
        let mut f = FileBuilder::new(&format!("src/module_{i}.{ext}"));
        f.line(filler(&mut rng, ext, 80));
        files.push(f);
    }

    let mut corpus = Corpus { files: Vec::new(), planted: Vec::new(), decoys: Vec::new() };
    for f in files {
        corpus.planted.extend(f.planted.iter().cloned());
        corpus.decoys.extend(f.decoys.iter().map(|l| (f.name.clone(), *l)));
        corpus.files.push((f.name.clone(), f.text()));
    }
    corpus
}

/// A tree of about `bytes` bytes: copies of the repository under numbered folders, each with
/// fresh secrets, plus filler files.
pub fn big_tree(seed: u64, bytes: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut rng = Rng(seed);
    let mut n = 0;
    while total < bytes {
        let repo = repository(seed.wrapping_add(n));
        for (name, text) in repo.files {
            total += text.len();
            out.push((format!("r{n:04}/{name}"), text));
        }
        for i in 0..6 {
            let ext = rng.pick(&["py", "js", "go", "yaml", "md"]);
            let text = filler(&mut rng, ext, 400);
            total += text.len();
            out.push((format!("r{n:04}/lib/f{i}.{ext}"), text));
        }
        n += 1;
    }
    out
}
