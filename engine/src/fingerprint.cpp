// Fingerprints: each node's key from its code, the params it reads and its
// inputs' keys, computed in topological order so producers come first.
//
// Encoding (all lengths and counts 8-byte little-endian, so that no two
// different field lists hash the same bytes):
//   node key  = SHA-256(len code_hash, code_hash, n_params, (len name, name,
//               len digest, digest)..., n_inputs, input key (32 raw bytes)...)
//   input key = SHA-256(producer key (32 raw bytes), dataset name)
// Keys are exchanged as 64 lowercase hex digits.
#include "mlops/fingerprint.hpp"

#include <string>

#include "mlops/errors.hpp"

namespace mlops {

namespace {

void put_count(Sha256& h, std::uint64_t n) {
  std::array<std::uint8_t, 8> bytes;
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(n >> (8 * i));
  h.update(bytes.data(), bytes.size());
}

void put_field(Sha256& h, std::string_view text) {
  put_count(h, text.size());
  h.update(text);
}

}  // namespace

FingerprintDigests fingerprint_digests(const Graph& graph, const FingerprintInput& input) {
  const std::size_t n = graph.node_count();
  if (input.code_hashes.size() != n) {
    throw std::invalid_argument("code_hashes has " + std::to_string(input.code_hashes.size()) +
                                " entries for a graph of " + std::to_string(n) + " nodes");
  }
  // Each dataset has one producer, so its key is computed once for all readers.
  FingerprintDigests keys;
  keys.node_keys.resize(n);
  keys.dataset_keys.assign(graph.dataset_count(), Digest{});
  for (NodeId v : graph.topological_order()) {
    Sha256 h;
    put_field(h, input.code_hashes[v]);
    const std::vector<std::string> params = graph.params(v);
    put_count(h, params.size());
    for (const std::string& name : params) {
      const auto found = input.param_digests.find(name);
      if (found == input.param_digests.end()) {
        throw PipelineError("node '" + graph.node_name(v) + "' reads parameter '" + name +
                            "', which has no value");
      }
      put_field(h, name);
      put_field(h, found->second);
    }
    const auto inputs = graph.inputs(v);
    put_count(h, inputs.size());
    for (DatasetId d : inputs) {
      if (graph.producer(d) == kNoNode) graph.validate();  // throws MissingInputError
      h.update(keys.dataset_keys[d].data(), keys.dataset_keys[d].size());
    }
    keys.node_keys[v] = h.finish();
    for (DatasetId d : graph.outputs(v)) {
      Sha256 out;
      out.update(keys.node_keys[v].data(), keys.node_keys[v].size());
      out.update(graph.dataset_name(d));
      keys.dataset_keys[d] = out.finish();
    }
  }
  return keys;
}

Fingerprints fingerprint(const Graph& graph, const FingerprintInput& input) {
  const FingerprintDigests digests = fingerprint_digests(graph, input);
  Fingerprints result;
  result.node_keys.reserve(digests.node_keys.size());
  for (const Digest& key : digests.node_keys) result.node_keys.push_back(to_hex(key));
  result.input_keys.resize(digests.node_keys.size());
  for (NodeId v = 0; v < digests.node_keys.size(); ++v) {
    for (DatasetId d : graph.inputs(v)) {
      result.input_keys[v].push_back(to_hex(digests.dataset_keys[d]));
    }
  }
  return result;
}

}  // namespace mlops
