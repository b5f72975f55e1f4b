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

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "mlops/errors.hpp"
#include "sha256.hpp"

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
    append_fixed<8>(le.data());
  }
  void put_field(std::string_view text) {
    put_count(text.size());
    put_raw(text);
  }
  void put_raw(std::string_view text) { append(text.data(), text.size()); }
  void put_digest(const Digest& digest) { append_fixed<sizeof(Digest)>(digest.data()); }
  Digest hash() { return detail::sha256_padded(bytes_.data(), size_); }
  static void hash_two(Message& a, Digest& digest_a, Message& b, Digest& digest_b) {
    detail::sha256_padded_x2(a.bytes_.data(), a.size_, digest_a, b.bytes_.data(), b.size_,
                             digest_b);
  }

 private:
  // A copy of known size compiles to a few moves rather than a call.
  template <std::size_t kSize>
  void append_fixed(const void* data) {
    if (bytes_.size() < size_ + kSize + detail::kSha256PaddingRoom) {
      bytes_.resize(2 * (size_ + kSize + detail::kSha256PaddingRoom));
    }
    std::memcpy(bytes_.data() + size_, data, kSize);
    size_ += kSize;
  }
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

// Node ids 0, 1, ..., n - 1, indexable like the vector of a topological order.
struct IdOrder {
  std::size_t n;
  std::size_t size() const noexcept { return n; }
  NodeId operator[](std::size_t i) const noexcept { return static_cast<NodeId>(i); }
};

// Builds node v's key message from the keys computed so far. In declaration
// order (kById) it returns false instead when v reads a dataset whose
// producer comes later, or on any error, so that the caller redoes the work
// in topological order: results and errors are then exactly those of the
// topological pass.
template <bool kById>
bool node_message(const Graph& graph, const FingerprintInput& input, NodeId v,
                  const FingerprintDigests& keys, Message& message) {
  message.clear();
  message.put_field(input.code_hashes[v]);
  // params() allocates only for a node that reads parameters.
  const std::vector<std::string> params = graph.params(v);
  message.put_count(params.size());
  for (const std::string& name : params) {
    const auto found = input.param_digests.find(name);
    if (found == input.param_digests.end()) {
      if constexpr (kById) return false;
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
    if constexpr (kById) {
      if (p == kNoNode || p > v) return false;
    }
    if (p == kNoNode) graph.validate();  // throws MissingInputError
    message.put_digest(keys.dataset_keys[d]);
  }
  return true;
}

// The input keys of the outputs of `nodes` (whose keys are known), two at a time.
void output_keys(const Graph& graph, std::span<const NodeId> nodes, FingerprintDigests& keys,
                 std::array<Message, 2>& messages) {
  std::array<DatasetId, 2> pending{};
  std::size_t count = 0;
  for (NodeId v : nodes) {
    for (DatasetId d : graph.outputs(v)) {
      messages[count].clear();
      messages[count].put_digest(keys.node_keys[v]);
      messages[count].put_raw(graph.dataset_name(d));
      pending[count++] = d;
      if (count == 2) {
        Message::hash_two(messages[0], keys.dataset_keys[pending[0]], messages[1],
                          keys.dataset_keys[pending[1]]);
        count = 0;
      }
    }
  }
  if (count == 1) keys.dataset_keys[pending[0]] = messages[0].hash();
}

// Computes every key, visiting nodes in `order`; two consecutive nodes are
// hashed together when the second does not read the first's outputs.
template <typename Order>
bool compute_keys(const Graph& graph, const FingerprintInput& input, const Order& order,
                  FingerprintDigests& keys) {
  constexpr bool kById = std::is_same_v<Order, IdOrder>;
  std::array<Message, 2> node;
  std::array<Message, 2> outputs;
  for (std::size_t i = 0; i < order.size();) {
    // The input keys of the nodes two steps ahead are random reads in a large
    // array: start loading them now.
    for (std::size_t ahead = i + 4; ahead < std::min(i + 6, order.size()); ++ahead) {
      for (DatasetId d : graph.inputs(order[ahead])) __builtin_prefetch(&keys.dataset_keys[d]);
    }
    const std::array<NodeId, 2> pair = {order[i], i + 1 < order.size() ? order[i + 1] : kNoNode};
    if (!node_message<kById>(graph, input, pair[0], keys, node[0])) return false;
    bool together = pair[1] != kNoNode;
    if (together) {
      for (DatasetId d : graph.inputs(pair[1])) together = together && graph.producer(d) != pair[0];
    }
    // On an error in the second node, it is met again on its own next time.
    together = together && node_message<kById>(graph, input, pair[1], keys, node[1]);
    if (together) {
      Message::hash_two(node[0], keys.node_keys[pair[0]], node[1], keys.node_keys[pair[1]]);
      output_keys(graph, pair, keys, outputs);
      i += 2;
    } else {
      keys.node_keys[pair[0]] = node[0].hash();
      output_keys(graph, std::span(pair).first(1), keys, outputs);
      i += 1;
    }
  }
  return true;
}

}  // namespace

FingerprintDigests fingerprint_digests(const Graph& graph, const FingerprintInput& input) {
  const Graph::ReadLock hold = graph.read_lock();  // one snapshot, however many nodes arrive
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
  if (!compute_keys(graph, input, IdOrder{n}, keys)) {
    compute_keys(graph, input, graph.topological_order(), keys);
  }
  return keys;
}

Fingerprints fingerprint(const Graph& graph, const FingerprintInput& input) {
  const Graph::ReadLock hold = graph.read_lock();  // the inputs below match the digests
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

std::vector<std::string> fingerprint_keys(const Graph& graph, const FingerprintInput& input) {
  const FingerprintDigests digests = fingerprint_digests(graph, input);
  std::vector<std::string> keys;
  keys.reserve(digests.node_keys.size());
  for (const Digest& key : digests.node_keys) keys.push_back(to_hex(key));
  return keys;
}

}  // namespace mlops
