// The model directory's config.json: TransformerLens field names at the top level (so a Python user can build
// a HookedTransformer from it) plus attnlab's own fields under an "attnlab" object. One struct for every
// model kind (transformer, lstm, gru, rnn, lru); fields that a kind does not use are 0/empty.
// Shape vocabulary: R = d_model (residual width), H = n_heads, D = d_head, M = d_mlp, V = d_vocab.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnlab {

// lru: diagonal linear recurrent blocks (Orvieto et al. 2023), x + GLU(LRU(LN(x))); src/model/rnn.h.
enum class ModelType { Transformer, Lstm, Gru, Rnn, Lru };
enum class AttentionKind { Softmax, Hard };  // hard = average-hard: uniform over the maximal scores (RASP's aggregate)
enum class MlpKind { Relu, Gelu, Identity, Bilinear };  // bilinear: (x W_in + b_in) * (x W_gate + b_gate), then W_out
enum class NormKind { None, LN };
enum class PosEmbedKind { None, Learned, Sinusoidal };  // TL "standard" = learned
enum class OutputKind { Tokens, Numeric };  // numeric: logits are real outputs read from residual directions
enum class Readout { PerPosition, Last };   // RNN readout

struct ModelConfig {
  ModelType model_type = ModelType::Transformer;
  // --- TransformerLens fields ---
  int n_layers = 1;       // transformer blocks, or stacked RNN layers (LRU blocks)
  int d_model = 0;        // R: residual width (transformer, lru) / embedding width = RNN input size
  int d_head = 0;         // D
  int n_heads = 0;        // H
  int d_mlp = 0;          // M (0 when attn_only)
  int d_vocab = 0;        // V: input token vocabulary (0 = numeric inputs only)
  int d_vocab_out = 0;    // output width: tokens (argmax) or numeric outputs
  int n_ctx = 0;          // maximum sequence length (0 = unbounded, RNNs only)
  MlpKind act_fn = MlpKind::Relu;
  NormKind normalization = NormKind::None;
  bool causal = false;    // attention_dir: "causal" | "bidirectional"
  bool attn_only = false;
  PosEmbedKind pos_embed = PosEmbedKind::Learned;
  double attn_scale = 0;  // scores = q.k / attn_scale (TL convention); 0 means sqrt(d_head)
  double ln_eps = 1e-5;   // LayerNorm epsilon (transformer with LN; every lru block)
  // --- attnlab fields ---
  AttentionKind attention = AttentionKind::Softmax;
  double hard_tol = 1e-6;             // hard attention: keys with score >= max - hard_tol are selected
  int d_in_num = 0;                   // width of real-valued inputs per position (embed.W_in_num), 0 = none
  OutputKind output = OutputKind::Tokens;
  std::vector<std::string> vocab;     // input token strings, size d_vocab
  std::vector<std::string> vocab_out; // output token strings, size d_vocab_out (empty when numeric)
  std::string bos;                    // prepended to every input when non-empty (must be in vocab)
  std::string pad;                    // padding token (must be in vocab when non-empty)
  std::vector<std::string> residual_labels;  // "name:value" per residual dimension (compiled models), or empty
  int d_hidden = 0;                   // RNN hidden size; lru: N, complex state entries per block
  std::string nonlinearity = "tanh";  // Elman RNN: tanh | relu
  Readout readout = Readout::PerPosition;  // RNN and lru
  std::string producer;               // what made this model ("attnlab demo", "attnlab compile", ...)
  nlohmann::json provenance = nlohmann::json::object();  // command line, version, seed, ...

  double attn_scale_value() const;    // the divisor actually used
  bool is_transformer() const { return model_type == ModelType::Transformer; }
  bool is_lru() const { return model_type == ModelType::Lru; }
};

// Parses and validates; `origin` (a path) prefixes errors. Every bad field is an Error naming it.
ModelConfig config_from_json(const nlohmann::json& j, const std::string& origin);
nlohmann::json config_to_json(const ModelConfig& cfg);
ModelConfig config_read(const std::string& path);
void config_validate(const ModelConfig& cfg, const std::string& origin);

// Expected tensors of a model: name -> shape, in a canonical order (the order they are written).
std::vector<std::pair<std::string, std::vector<int64_t>>> config_tensor_shapes(const ModelConfig& cfg);

std::string model_type_name(ModelType t);
std::string mlp_kind_name(MlpKind k);

}  // namespace attnlab
