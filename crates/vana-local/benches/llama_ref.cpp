// Reference timing of llama.cpp itself, with llama-bench's method (tools/llama-bench is not part
// of the llama.cpp sources vendored in the llama-cpp-sys-2 crate, so benches/local.rs compiles
// this file against the same vendored headers and the same static libraries our provider links).
//
// pp: a fresh KV cache, `n_prompt` random tokens (BOS first) decoded in batches of 512.
// tg: a fresh KV cache, `n_gen` single-token decodes (BOS, then random tokens), no sampling.
// Each test runs once as warm-up, then `reps` times; prints the mean tokens/s of each.
//
// usage: llama_ref MODEL THREADS N_PROMPT N_GEN REPS

#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static void quiet(enum ggml_log_level, const char *, void *) {}

static double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char ** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL THREADS N_PROMPT N_GEN REPS\n", argv[0]);
        return 2;
    }
    const char * path = argv[1];
    const int threads = atoi(argv[2]);
    const int n_prompt = atoi(argv[3]);
    const int n_gen = atoi(argv[4]);
    const int reps = atoi(argv[5]);

    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(path, llama_model_default_params());
    if (!model) {
        fprintf(stderr, "cannot load %s\n", path);
        return 1;
    }
    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx = n_prompt + n_gen;
    cparams.n_batch = 512;
    cparams.n_ubatch = 512;
    cparams.n_threads = threads;
    cparams.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cparams);
    if (!ctx) {
        fprintf(stderr, "cannot create a context\n");
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const bool add_bos = llama_vocab_get_add_bos(vocab);

    auto test_prompt = [&]() {
        std::vector<llama_token> tokens(512);
        int done = 0;
        while (done < n_prompt) {
            const int n = std::min(n_prompt - done, 512);
            tokens[0] = done == 0 && add_bos ? llama_vocab_bos(vocab) : std::rand() % n_vocab;
            for (int i = 1; i < n; i++) {
                tokens[i] = std::rand() % n_vocab;
            }
            if (llama_decode(ctx, llama_batch_get_one(tokens.data(), n)) != 0) {
                fprintf(stderr, "decode failed\n");
                exit(1);
            }
            done += n;
        }
        llama_synchronize(ctx);
    };
    auto test_gen = [&]() {
        llama_token token = add_bos ? llama_vocab_bos(vocab) : std::rand() % n_vocab;
        for (int i = 0; i < n_gen; i++) {
            if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) {
                fprintf(stderr, "decode failed\n");
                exit(1);
            }
            llama_synchronize(ctx);
            token = std::rand() % n_vocab;
        }
    };

    double pp = 0, tg = 0;
    for (int r = 0; r <= reps; r++) {
        llama_memory_clear(llama_get_memory(ctx), false);
        double t0 = now_s();
        test_prompt();
        double t_pp = now_s() - t0;
        llama_memory_clear(llama_get_memory(ctx), false);
        t0 = now_s();
        test_gen();
        double t_tg = now_s() - t0;
        if (r > 0) {  // r == 0 is the warm-up
            pp += n_prompt / t_pp;
            tg += n_gen / t_tg;
        }
    }
    printf("pp_tps %.2f\ntg_tps %.2f\n", pp / reps, tg / reps);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
