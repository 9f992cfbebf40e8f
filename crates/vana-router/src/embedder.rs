//! all-MiniLM-L6-v2 sentence embeddings: a 6-layer BERT encoder in plain Rust, mean pooling
//! over the tokens and L2 normalisation.

use crate::error::RouterError;
use crate::linear::Linear;
use crate::safetensors::SafeTensors;
use crate::tokenizer::Tokenizer;
use std::path::Path;

/// Width of the hidden states and of the sentence embedding.
pub const DIM: usize = 384;
const LAYERS: usize = 6;
const HEADS: usize = 12;
const HEAD_DIM: usize = DIM / HEADS;
const INTERMEDIATE: usize = 1536;
const VOCAB: usize = 30522;
const MAX_POSITIONS: usize = 512;
const LAYER_NORM_EPS: f32 = 1e-12;

/// Weights of one transformer layer.
struct Layer {
    /// Query, key and value projections fused: `[384] -> [3 * 384]`.
    qkv: Linear,
    attn_out: Linear,
    attn_norm: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    out_norm: (Vec<f32>, Vec<f32>),
}

/// The all-MiniLM-L6-v2 sentence embedder: tokenizer plus BERT encoder, weights in f32 (~90 MB).
///
/// It is immutable once loaded, so one instance can be shared between threads (`Arc<Embedder>`).
pub struct Embedder {
    tokenizer: Tokenizer,
    word_embeddings: Vec<f32>,
    position_embeddings: Vec<f32>,
    token_type_embedding: Vec<f32>,
    embed_norm: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("dim", &DIM).field("layers", &self.layers.len()).finish()
    }
}

impl Embedder {
    /// Loads `model.safetensors` and `vocab.txt` from `dir` (the folder that
    /// `vana_assets::ensure(&vana_assets::MINILM_L6_V2, ..)` returns).
    pub fn load(dir: &Path) -> Result<Embedder, RouterError> {
        let tokenizer = Tokenizer::from_file(&dir.join("vocab.txt"))?;
        let st = SafeTensors::read(&dir.join("model.safetensors"))?;
        let vector = |name: &str, n: usize| st.f32(name, &[n]);
        let norm = |prefix: &str| -> Result<(Vec<f32>, Vec<f32>), RouterError> {
            Ok((vector(&format!("{prefix}.weight"), DIM)?, vector(&format!("{prefix}.bias"), DIM)?))
        };
        let linear = |prefix: &str, out: usize, inp: usize| -> Result<Linear, RouterError> {
            let w = st.f32(&format!("{prefix}.weight"), &[out, inp])?;
            let b = vector(&format!("{prefix}.bias"), out)?;
            Ok(Linear::new(&w, &b, out, inp))
        };
        let mut layers = Vec::with_capacity(LAYERS);
        for l in 0..LAYERS {
            let p = format!("encoder.layer.{l}");
            let (mut w, mut b) = (Vec::with_capacity(3 * DIM * DIM), Vec::with_capacity(3 * DIM));
            for part in ["query", "key", "value"] {
                w.extend(st.f32(&format!("{p}.attention.self.{part}.weight"), &[DIM, DIM])?);
                b.extend(vector(&format!("{p}.attention.self.{part}.bias"), DIM)?);
            }
            layers.push(Layer {
                qkv: Linear::new(&w, &b, 3 * DIM, DIM),
                attn_out: linear(&format!("{p}.attention.output.dense"), DIM, DIM)?,
                attn_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                up: linear(&format!("{p}.intermediate.dense"), INTERMEDIATE, DIM)?,
                down: linear(&format!("{p}.output.dense"), DIM, INTERMEDIATE)?,
                out_norm: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let token_types = st.f32("embeddings.token_type_embeddings.weight", &[2, DIM])?;
        Ok(Embedder {
            tokenizer: tokenizer.with_max_len(crate::tokenizer::DEFAULT_MAX_LEN),
            word_embeddings: st.f32("embeddings.word_embeddings.weight", &[VOCAB, DIM])?,
            position_embeddings: st.f32("embeddings.position_embeddings.weight", &[MAX_POSITIONS, DIM])?,
            token_type_embedding: token_types[..DIM].to_vec(),
            embed_norm: norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// Provisions the model in `models_dir` if needed (see [`vana_assets::ensure`]) and loads it.
    pub fn from_models_dir(models_dir: &Path) -> Result<Embedder, RouterError> {
        Embedder::load(&vana_assets::ensure(&vana_assets::MINILM_L6_V2, models_dir)?)
    }

    /// [`Embedder::from_models_dir`] with [`vana_assets::default_models_dir`]
    /// (`$VANA_MODELS_DIR`, else `<data dir>/vana/models`).
    pub fn load_default() -> Result<Embedder, RouterError> {
        Embedder::from_models_dir(&vana_assets::default_models_dir())
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The sentence embedding of `text`: [`DIM`] floats with unit L2 norm.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.embed_ids(&self.tokenizer.encode(text))
    }

    /// The embeddings of several texts, in order, computed on up to
    /// [`std::thread::available_parallelism`] threads.
    pub fn embed_many(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(texts.len());
        if threads <= 1 {
            return texts.iter().map(|t| self.embed(t)).collect();
        }
        let chunk = texts.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|t| self.embed(t)).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("embedding thread panicked")).collect()
        })
    }

    /// The sentence embedding of already tokenized ids (`[CLS] … [SEP]`, at most 512 ids; longer
    /// input is truncated). Ids outside the vocabulary are read as `[UNK]`.
    pub fn embed_ids(&self, ids: &[u32]) -> Vec<f32> {
        let hidden = self.encode(&ids[..ids.len().min(MAX_POSITIONS)]);
        let t = hidden.len() / DIM;
        let mut pooled = vec![0.0f32; DIM];
        for row in hidden.chunks_exact(DIM) {
            pooled.iter_mut().zip(row).for_each(|(p, h)| *p += h);
        }
        let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 1.0 / t.max(1) as f32 };
        pooled.iter_mut().for_each(|p| *p *= scale);
        pooled
    }

    /// The encoder's last hidden states, `[ids.len(), DIM]`.
    fn encode(&self, ids: &[u32]) -> Vec<f32> {
        let t = ids.len();
        let unk = self.tokenizer.token_id("[UNK]").unwrap_or(100) as usize;
        let mut h = vec![0.0f32; t * DIM];
        for (pos, (&id, row)) in ids.iter().zip(h.chunks_exact_mut(DIM)).enumerate() {
            let id = if (id as usize) < VOCAB { id as usize } else { unk };
            let word = &self.word_embeddings[id * DIM..][..DIM];
            let position = &self.position_embeddings[pos * DIM..][..DIM];
            for (i, out) in row.iter_mut().enumerate() {
                *out = word[i] + position[i] + self.token_type_embedding[i];
            }
            layer_norm(row, &self.embed_norm);
        }
        let mut qkv = vec![0.0f32; t * 3 * DIM];
        let mut context = vec![0.0f32; t * DIM];
        let mut projected = vec![0.0f32; t * DIM];
        let mut inter = vec![0.0f32; t * INTERMEDIATE];
        let mut scores = vec![0.0f32; t];
        let scale = 1.0 / (HEAD_DIM as f32).sqrt();
        for layer in &self.layers {
            layer.qkv.forward(&h, &mut qkv);
            for head in 0..HEADS {
                let off = head * HEAD_DIM;
                for i in 0..t {
                    let q = &qkv[i * 3 * DIM + off..][..HEAD_DIM];
                    for (j, s) in scores.iter_mut().enumerate() {
                        let k = &qkv[j * 3 * DIM + DIM + off..][..HEAD_DIM];
                        *s = dot(q, k) * scale;
                    }
                    softmax(&mut scores);
                    let ctx = &mut context[i * DIM + off..][..HEAD_DIM];
                    ctx.fill(0.0);
                    for (j, &p) in scores.iter().enumerate() {
                        let v = &qkv[j * 3 * DIM + 2 * DIM + off..][..HEAD_DIM];
                        ctx.iter_mut().zip(v).for_each(|(c, v)| *c += p * v);
                    }
                }
            }
            layer.attn_out.forward(&context, &mut projected);
            add_and_norm(&mut h, &projected, &layer.attn_norm);
            layer.up.forward(&h, &mut inter);
            inter.iter_mut().for_each(|v| *v = gelu(*v));
            layer.down.forward(&inter, &mut projected);
            add_and_norm(&mut h, &projected, &layer.out_norm);
        }
        h
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    v.iter_mut().for_each(|x| *x /= sum);
}

/// `h = LayerNorm(h + delta)` row by row.
fn add_and_norm(h: &mut [f32], delta: &[f32], norm: &(Vec<f32>, Vec<f32>)) {
    for (row, d) in h.chunks_exact_mut(DIM).zip(delta.chunks_exact(DIM)) {
        row.iter_mut().zip(d).for_each(|(x, d)| *x += d);
        layer_norm(row, norm);
    }
}

fn layer_norm(row: &mut [f32], (gamma, beta): &(Vec<f32>, Vec<f32>)) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + LAYER_NORM_EPS).sqrt();
    for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *x = (*x - mean) * inv * g + b;
    }
}

/// GELU, erf form: `x/2 · (1 + erf(x/√2))`.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf as a rational function of `x` on `[-4, 4]` (±1 beyond, within f32 precision); absolute
/// error below 1e-7. The form (odd numerator of degree 13, even denominator of degree 8) is the
/// one used by Eigen and XLA; it has no branches, so loops over it vectorise.
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = -2.726_142_3e-10_f32;
    let p = p * x2 + 2.770_681_4e-8;
    let p = p * x2 - 2.101_024e-6;
    let p = p * x2 - 5.692_506_4e-5;
    let p = p * x2 - 7.349_906_3e-4;
    let p = p * x2 - 2.954_6e-3;
    let p = p * x2 - 1.609_603_3e-2;
    let q = -1.456_607_2e-5_f32;
    let q = q * x2 - 2.133_740_6e-4;
    let q = q * x2 - 1.682_827e-3;
    let q = q * x2 - 7.373_329_2e-3;
    let q = q * x2 - 1.426_474e-2;
    x * p / q
}

#[cfg(test)]
mod tests {
    #[test]
    fn erf_is_accurate() {
        // Reference values of erf.
        for (x, want) in
            [(0.0, 0.0), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3), (-1.5, -0.966_105_1)]
        {
            assert!((super::erf(x) - want).abs() < 2e-7, "erf({x}) = {}", super::erf(x));
        }
        assert_eq!(super::erf(10.0), super::erf(4.0));
    }
}
