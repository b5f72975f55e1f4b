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

#include <cstring>
#include <string>
#include <type_traits>

#include "mlops/errors.hpp"

namespace mlops {

namespace {

// The bytes of one key's message, built in a buffer reused for every key so
// that hashing allocates nothing, and padded in place for SHA-256.
class Message {
 public:
  void clear() noexcept { size_ = 0; }
  void put_count(std::uint64_t n) {
    std::array<std::uint8_t, 8> le;
    for (std::size_t i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(n >> (8 * i));
    append(le.data(), le.size());
  }
  void put_field(std::string_view text) {
    put_count(text.size());
    put_raw(text);
  }
  void put_raw(std::string_view text) { append(text.data(), text.size()); }
  void put_digest(const Digest& digest) { append(digest.data(), digest.size()); }
  Digest hash() { return detail::sha256_padded(bytes_.data(), size_); }

 private:
  void append(const void* data, std::size_t size) {
    // Room is kept for the padding after the message.
    if (bytes_.size() < size_ + size + detail::kSha256PaddingRoom) {
      bytes_.resize(2 * (size_ + size + detail::kSha256PaddingRoom));
    }
    std::memcpy(bytes_.data() + size_, data, size);
    size_ += size;
  }

  std::vector<std::uint8_t> bytes_ = std::vector<std::uint8_t>(512);
  std::size_t size_ = 0;
};

// Node ids 0, 1, ..., n - 1 as a range.
struct IdOrder {
  NodeId size;
  struct Iterator {
    NodeId id;
    NodeId operator*() const noexcept { return id; }
    Iterator& operator++() noexcept {
      ++id;
      return *this;
    }
    bool operator!=(const Iterator& other) const noexcept { return id != other.id; }
  };
  Iterator begin() const noexcept { return {0}; }
  Iterator end() const noexcept { return {size}; }
};

// Computes the keys of `order`'s nodes. In declaration order (IdOrder) it
// stops and returns false when a node reads a dataset whose producer comes
// later, or on any error, so that the caller redoes the work in topological
// order: results and errors are then exactly those of the topological pass.
template <typename Order>
bool compute_keys(const Graph& graph, const FingerprintInput& input, const Order& order,
                  FingerprintDigests& keys) {
  Message message;
  Message output;
  for (NodeId v : order) {
    message.clear();
    message.put_field(input.code_hashes[v]);
    // params() allocates only for a node that reads parameters.
    const std::vector<std::string> params = graph.params(v);
    message.put_count(params.size());
    for (const std::string& name : params) {
      const auto found = input.param_digests.find(name);
      if (found == input.param_digests.end()) {
        // Errors are reported as the topological pass meets them.
        if constexpr (std::is_same_v<Order, IdOrder>) return false;
        throw PipelineError("node '" + graph.node_name(v) + "' reads parameter '" + name +
                            "', which has no value");
      }
      message.put_field(name);
      message.put_field(found->second);
    }
    const auto inputs = graph.inputs(v);
    message.put_count(inputs.size());
    for (DatasetId d : inputs) {
      const NodeId p = graph.producer(d);
      if constexpr (std::is_same_v<Order, IdOrder>) {
        if (p == kNoNode || p > v) return false;
      }
      if (p == kNoNode) graph.validate();  // throws MissingInputError
      message.put_digest(keys.dataset_keys[d]);
    }
    const Digest key = message.hash();
    keys.node_keys[v] = key;
    for (DatasetId d : graph.outputs(v)) {
      output.clear();
      output.put_digest(key);
      output.put_raw(graph.dataset_name(d));
      keys.dataset_keys[d] = output.hash();
    }
  }
  return true;
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
  // Nodes are usually declared producers first: then declaration order is a
  // topological order and the graph's cached one (a full sort) is not needed.
  // Keys do not depend on the order, only on producers coming first.
  if (!compute_keys(graph, input, IdOrder{static_cast<NodeId>(n)}, keys)) {
    compute_keys(graph, input, graph.topological_order(), keys);
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
    const auto inputs = graph.inputs(v);
    result.input_keys[v].reserve(inputs.size());
    for (DatasetId d : inputs) {
      result.input_keys[v].push_back(to_hex(digests.dataset_keys[d]));
    }
  }
  return result;
}

}  // namespace mlops
