/// How token vectors become one sentence vector (`1_Pooling/config.json`).
public enum EmbeddingPooling: String, Sendable, Equatable {
    /// Mean over the sequence's tokens, `[CLS]` and `[SEP]` included (all-MiniLM-L6-v2).
    case mean
    /// The final hidden state of `[CLS]` (bge-small-en-v1.5).
    case cls
}
