//! Sentence embeddings from the real model.

mod common;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn embeddings_have_unit_norm_and_match_the_reference() {
    let embedder = common::embedder();
    let e = embedder.embed("Hello, world!");
    assert_eq!(e.len(), vana_router::DIM);
    let norm = e.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    // First values from sentence-transformers (PyTorch) for the same sentence.
    let reference = [-0.038_177_18, 0.032_911_09, -0.005_459_37, 0.014_369_84];
    for (got, want) in e.iter().zip(reference) {
        assert!((got - want).abs() < 1e-4, "{:?} vs {reference:?}", &e[..4]);
    }
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    let embedder = common::embedder();
    let a = embedder.embed("plot the monthly revenue from my sales spreadsheet");
    let b = embedder.embed("draw a chart of sales per month from the csv file");
    let c = embedder.embed("my cat likes to sleep on the sofa all afternoon");
    let (ab, ac, bc) = (cosine(&a, &b), cosine(&a, &c), cosine(&b, &c));
    assert!(ab > 0.5 && ab > ac + 0.3 && ab > bc + 0.3, "ab {ab}, ac {ac}, bc {bc}");
    assert!((cosine(&a, &a) - 1.0).abs() < 1e-4);
    // Deterministic: the same text gives the same vector.
    assert_eq!(embedder.embed("plot the monthly revenue from my sales spreadsheet"), a);
}

#[test]
fn batch_embedding_matches_single_embeddings() {
    let embedder = common::embedder();
    let texts = ["list the tables in my database", "hello", "what is the sentiment of this review?"];
    let batch = embedder.embed_many(&texts);
    assert_eq!(batch.len(), texts.len());
    for (text, vector) in texts.iter().zip(&batch) {
        assert_eq!(&embedder.embed(text), vector, "{text}");
    }
}

#[test]
fn the_embedder_and_router_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<vana_router::Embedder>();
    shareable::<vana_router::Router>();
}
