// The pipeline graph: nodes that read and write named datasets.
//
// Names live only at the edges of this API; inside, nodes and datasets are
// dense integer ids in declaration order. Inputs named "params:<name>" are
// parameters the node reads, not dataset edges.
//
// Nodes are added one by one (as decorators run) and each addition is checked
// at once for a reused name, a second producer of a dataset, and a cycle, at
// amortised cost proportional to what the new node touches (never a full
// re-validation: building an N-node graph is O(N + E), not O(N^2)).
// `validate()` then checks what can only be judged on the whole graph: inputs
// that nobody produces.
//
// Threads: nodes may be added while other threads read the graph. add_node,
// add_nodes and reserve take the graph's lock exclusively; the whole-graph
// operations (validate, topological_order, ancestors, descendants, select,
// levels, remaining_path, critical_path, copying the graph, and fingerprint,
// plan and the Scheduler's constructor) hold it shared for their whole run, so
// each sees the graph as one consistent snapshot. The per-node accessors
// (node_count, node_name, inputs, producer, ...) do not lock, to stay cheap in
// the engine's own loops: a thread calling them while another may add nodes
// holds read_lock() across the calls (and the spans and references they return
// stay valid only that long).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlops {

using NodeId = std::uint32_t;
using DatasetId = std::uint32_t;
inline constexpr NodeId kNoNode = static_cast<NodeId>(-1);

// What a caller declares for one node.
struct NodeSpec {
  std::string name;
  std::vector<std::string> inputs;   // dataset names and "params:<name>" entries
  std::vector<std::string> outputs;  // dataset names
  std::vector<std::string> tags;
  // A planned step with no code yet ("concept" itself is a C++20 keyword).
  bool is_concept = false;
  double cost = 1.0;  // expected duration, for critical path and priorities
};

// Which nodes a run covers. Empty lists do not filter; given lists intersect
// (e.g. from={a} and to={d} selects the nodes between a and d).
struct Selection {
  std::vector<std::string> only;  // exactly these nodes
  std::vector<std::string> from;  // these nodes and everything downstream
  std::vector<std::string> to;    // these nodes and everything upstream
  std::vector<std::string> tags;  // nodes carrying any of these tags
  bool empty() const noexcept { return only.empty() && from.empty() && to.empty() && tags.empty(); }
};

class Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&);
  Graph& operator=(const Graph&);

  // A shared hold on the graph: while one exists no node is added (add_node
  // waits for it). Re-entrant within a thread; add_node from a thread holding
  // one throws std::logic_error rather than deadlock.
  class ReadLock {
   public:
    ReadLock(ReadLock&& other) noexcept;
    ReadLock& operator=(ReadLock&&) = delete;
    ReadLock(const ReadLock&) = delete;
    ReadLock& operator=(const ReadLock&) = delete;
    ~ReadLock();

   private:
    friend class Graph;
    explicit ReadLock(const Graph& graph);
    const Graph* graph_;  // nullptr when moved from or already held by this thread
  };
  ReadLock read_lock() const;

  // Adds a node; throws DuplicateNodeError, DuplicateOutputError or CycleError
  // (with the cycle as a path of node names) and leaves the graph unchanged.
  NodeId add_node(const NodeSpec& spec);
  // Adds several nodes, all or nothing: on the first error the graph is left
  // as it was before the call.
  void add_nodes(std::span<const NodeSpec> specs);
  // Pre-sizes the storage for a graph of about `nodes` nodes reading `inputs`
  // dataset entries in total (an optimisation only).
  void reserve(std::size_t nodes, std::size_t inputs);

  // Throws MissingInputError for the first input (in declaration order) that
  // nobody produces; the message names every missing input and its readers.
  void validate() const;

  std::size_t node_count() const noexcept;
  std::size_t dataset_count() const noexcept;
  std::size_t edge_count() const noexcept;  // (producer, consumer) pairs via datasets

  const std::string& node_name(NodeId id) const;
  std::optional<NodeId> find_node(std::string_view name) const;
  NodeId node_id(std::string_view name) const;  // throws SelectionError if unknown
  const std::string& dataset_name(DatasetId id) const;
  std::optional<DatasetId> find_dataset(std::string_view name) const;

  std::span<const DatasetId> inputs(NodeId id) const;
  std::span<const DatasetId> outputs(NodeId id) const;
  std::vector<std::string> params(NodeId id) const;  // parameter names read, without "params:"
  std::vector<std::string> tags(NodeId id) const;
  bool is_concept(NodeId id) const;
  double cost(NodeId id) const;
  NodeId producer(DatasetId id) const;  // kNoNode when nobody produces it
  std::span<const NodeId> consumers(DatasetId id) const;

  // Direct predecessors/successors (deduplicated, ascending id).
  std::vector<NodeId> parents(NodeId id) const;
  std::vector<NodeId> children(NodeId id) const;

  // Kahn's order; ties broken by declaration order, so it is deterministic.
  std::vector<NodeId> topological_order() const;
  // Ancestors/descendants of a set of nodes (excluding the set), in topological order.
  std::vector<NodeId> ancestors(std::span<const NodeId> nodes) const;
  std::vector<NodeId> descendants(std::span<const NodeId> nodes) const;
  // Selected nodes in topological order; throws SelectionError on unknown
  // names or tags, and when the selection is empty.
  std::vector<NodeId> select(const Selection& selection) const;
  // Longest-path layering: level 0 holds nodes without parents.
  std::vector<std::vector<NodeId>> levels() const;
  // For each node, the largest sum of costs on a path from it to a sink (itself included).
  std::vector<double> remaining_path(std::span<const double> costs) const;
  // The most expensive source-to-sink path and its total cost.
  std::pair<double, std::vector<NodeId>> critical_path(std::span<const double> costs) const;

 private:
  struct Impl;
  // The exclusive hold add_node takes; throws if this thread holds a ReadLock.
  std::unique_lock<std::shared_mutex> exclusive();
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlops
