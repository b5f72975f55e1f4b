// Graph: building (add_node with its incremental checks), validate() and the
// accessors. Ordering algorithms are in graph_order.cpp, selection in
// graph_select.cpp, the incremental cycle check in graph_cycle.cpp.
#include "mlops/graph.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "graph_impl.hpp"
#include "mlops/errors.hpp"

namespace mlops {

namespace {

constexpr std::string_view kParamPrefix = "params:";

bool is_param(std::string_view input) { return input.starts_with(kParamPrefix); }

std::string quoted(std::string_view name) {
  std::string text;
  text.reserve(name.size() + 2);
  text.push_back('\'');
  text.append(name);
  text.push_back('\'');
  return text;
}

}  // namespace

std::uint32_t Graph::Impl::next_stamp() {
  if (mark.size() < data.node_count() + 1) {
    mark.resize(data.node_count() + 1, 0);
    via.resize(data.node_count() + 1, detail::kNone);
  }
  if (++stamp == 0) {  // wrapped: old marks could collide with new stamps
    std::fill(mark.begin(), mark.end(), 0);
    stamp = 1;
  }
  return stamp;
}

void Graph::Impl::hash_names(const NodeSpec& spec) {
  using detail::NameTable;
  name_hash = NameTable::hash_of(spec.name);
  output_hashes.resize(spec.outputs.size());
  for (std::size_t i = 0; i < spec.outputs.size(); ++i) {
    output_hashes[i] = NameTable::hash_of(spec.outputs[i]);
  }
  input_hashes.resize(spec.inputs.size());
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    input_hashes[i] = is_param(spec.inputs[i]) ? 0 : NameTable::hash_of(spec.inputs[i]);
  }
  if (!data.datasets.large()) return;  // the tables are in cache: nothing to overlap
  data.nodes.prefetch_slot(name_hash);
  for (std::uint64_t hash : output_hashes) data.datasets.prefetch_slot(hash);
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!is_param(spec.inputs[i])) data.datasets.prefetch_slot(input_hashes[i]);
  }
  // Inputs usually exist: their names will be compared, so load them too.
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!is_param(spec.inputs[i])) data.datasets.prefetch_name(input_hashes[i]);
  }
}

void Graph::Impl::check(const NodeSpec& spec) {
  if (spec.name.empty()) throw PipelineError("a node needs a non-empty name");
  if (data.nodes.find(spec.name, name_hash)) {
    throw DuplicateNodeError("node name " + quoted(spec.name) + " is used twice", spec.name);
  }
  output_ids.assign(spec.outputs.size(), detail::kNone);
  for (std::size_t i = 0; i < spec.outputs.size(); ++i) {
    const std::string& out = spec.outputs[i];
    if (out.empty() || is_param(out)) {
      throw PipelineError("node " + quoted(spec.name) + " has an invalid output name " +
                          quoted(out) + " (empty, or reserved for parameters)");
    }
    std::string first;
    const auto d = data.datasets.find(out, output_hashes[i]);
    output_ids[i] = d ? *d : detail::kNone;
    if (d && data.producer[*d] != detail::kNone) {
      first = data.nodes.name(data.producer[*d]);
    } else if (std::find(spec.outputs.begin(), spec.outputs.begin() + static_cast<long>(i), out) !=
               spec.outputs.begin() + static_cast<long>(i)) {
      first = spec.name;
    } else {
      continue;
    }
    throw DuplicateOutputError("dataset " + quoted(out) + " is produced by both " + quoted(first) +
                                   " and " + quoted(spec.name),
                               out, {first, spec.name});
  }
  for (const std::string& in : spec.inputs) {
    if (in.empty() || in == kParamPrefix) {
      throw PipelineError("node " + quoted(spec.name) + " has an empty input name");
    }
    if (std::find(spec.outputs.begin(), spec.outputs.end(), in) != spec.outputs.end()) {
      throw CycleError("cycle: " + spec.name + " -> " + spec.name, {spec.name, spec.name});
    }
  }
}

NodeId Graph::Impl::append(const NodeSpec& spec) {
  const auto id = static_cast<NodeId>(data.node_count());
  data.nodes.insert_new(spec.name, name_hash);
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const std::string& in = spec.inputs[i];
    if (is_param(in)) {
      data.param_id.push_back(data.param_names.intern(std::string_view(in).substr(7)));
      continue;
    }
    const DatasetId d =
        input_ids[i] != detail::kNone ? input_ids[i] : data.datasets.intern(in, input_hashes[i]);
    if (d == data.producer.size()) {
      data.producer.push_back(detail::kNone);
      data.first_reader.push_back(detail::kNone);
    }
    const auto entry = static_cast<std::uint32_t>(data.in_dataset.size());
    data.in_dataset.push_back(d);
    data.in_owner.push_back(id);
    data.in_next.push_back(data.first_reader[d]);
    data.first_reader[d] = entry;
  }
  for (std::size_t i = 0; i < spec.outputs.size(); ++i) {
    // Known ids are reused; a new name may still equal an input added just above.
    const DatasetId d = output_ids[i] != detail::kNone
                            ? output_ids[i]
                            : data.datasets.intern(spec.outputs[i], output_hashes[i]);
    if (d == data.producer.size()) {
      data.producer.push_back(detail::kNone);
      data.first_reader.push_back(detail::kNone);
    }
    data.producer[d] = id;
    data.out_dataset.push_back(d);
  }
  for (const std::string& tag : spec.tags) {
    const std::uint32_t t = data.tag_names.intern(tag);
    const auto begin = data.tag_id.begin() + data.tag_begin.back();
    if (std::find(begin, data.tag_id.end(), t) == data.tag_id.end()) data.tag_id.push_back(t);
  }
  data.in_begin.push_back(static_cast<std::uint32_t>(data.in_dataset.size()));
  data.out_begin.push_back(static_cast<std::uint32_t>(data.out_dataset.size()));
  data.param_begin.push_back(static_cast<std::uint32_t>(data.param_id.size()));
  data.tag_begin.push_back(static_cast<std::uint32_t>(data.tag_id.size()));
  data.concept_step.push_back(spec.is_concept ? 1 : 0);
  data.cost.push_back(spec.cost);
  invalidate();
  return id;
}

void Graph::Impl::truncate(std::size_t nodes, std::size_t datasets) {
  auto& g = data;
  // Readers are prepended, so unlinking the newest entries first restores the lists.
  for (std::size_t e = g.in_dataset.size(); e-- > g.in_begin[nodes];) {
    g.first_reader[g.in_dataset[e]] = g.in_next[e];
  }
  for (std::size_t e = g.out_begin[nodes]; e < g.out_dataset.size(); ++e) {
    g.producer[g.out_dataset[e]] = detail::kNone;
  }
  g.in_dataset.resize(g.in_begin[nodes]);
  g.in_owner.resize(g.in_begin[nodes]);
  g.in_next.resize(g.in_begin[nodes]);
  g.out_dataset.resize(g.out_begin[nodes]);
  g.param_id.resize(g.param_begin[nodes]);
  g.tag_id.resize(g.tag_begin[nodes]);
  g.in_begin.resize(nodes + 1);
  g.out_begin.resize(nodes + 1);
  g.param_begin.resize(nodes + 1);
  g.tag_begin.resize(nodes + 1);
  g.concept_step.resize(nodes);
  g.cost.resize(nodes);
  g.label.resize(nodes);
  g.nodes.truncate(nodes);
  g.datasets.truncate(datasets);
  g.producer.resize(datasets);
  g.first_reader.resize(datasets);
  invalidate();
}

Graph::Graph() : impl_(std::make_unique<Impl>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::Graph(const Graph& other) {
  const ReadLock hold = other.read_lock();
  impl_ = std::make_unique<Impl>(*other.impl_);
}
Graph& Graph::operator=(const Graph& other) {
  if (this != &other) {
    const ReadLock hold = other.read_lock();
    auto copy = std::make_unique<Impl>(*other.impl_);
    const std::unique_lock lock = exclusive();
    impl_.swap(copy);
  }
  return *this;
}

namespace {

// The graphs this thread holds a ReadLock on: a nested hold (plan() calling
// select()) must not lock again, since a shared_mutex is not re-entrant and
// would deadlock against a waiting writer. Rarely more than one entry.
thread_local std::vector<const Graph*> held_graphs;

bool held_by_this_thread(const Graph* graph) {
  return std::find(held_graphs.begin(), held_graphs.end(), graph) != held_graphs.end();
}

}  // namespace

Graph::ReadLock::ReadLock(const Graph& graph) : graph_(&graph) {
  if (held_by_this_thread(graph_)) {
    graph_ = nullptr;  // the outer hold covers this one
    return;
  }
  graph.impl_->mutex.lock_shared();
  held_graphs.push_back(graph_);
}

Graph::ReadLock::ReadLock(ReadLock&& other) noexcept : graph_(other.graph_) {
  other.graph_ = nullptr;
}

Graph::ReadLock::~ReadLock() {
  if (graph_ == nullptr) return;
  held_graphs.erase(std::find(held_graphs.begin(), held_graphs.end(), graph_));
  graph_->impl_->mutex.unlock_shared();
}

Graph::ReadLock Graph::read_lock() const { return ReadLock(*this); }

std::unique_lock<std::shared_mutex> Graph::exclusive() {
  if (held_by_this_thread(this)) {
    throw std::logic_error("Graph: a node cannot be added by a thread that is reading the graph");
  }
  return std::unique_lock(impl_->mutex);
}

NodeId Graph::add_node(const NodeSpec& spec) {
  const std::unique_lock lock = exclusive();
  return impl_->add(spec);
}

NodeId Graph::Impl::add(const NodeSpec& spec) {
  Impl& m = *this;
  m.hash_names(spec);
  m.check(spec);
  const auto& g = m.data;
  // The new node's would-be parents and children among existing nodes.
  std::vector<NodeId>& parents = m.new_parents;
  std::vector<NodeId>& children = m.new_children;
  parents.clear();
  children.clear();
  m.input_ids.assign(spec.inputs.size(), detail::kNone);
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    if (is_param(spec.inputs[i])) continue;
    const auto d = g.datasets.find(spec.inputs[i], m.input_hashes[i]);
    if (!d) continue;
    m.input_ids[i] = *d;
    // Read below and by append(): start the loads together.
    __builtin_prefetch(g.producer.data() + *d);
    __builtin_prefetch(g.first_reader.data() + *d, 1);
  }
  for (std::uint32_t d : m.input_ids) {
    if (d == detail::kNone || g.producer[d] == detail::kNone) continue;
    parents.push_back(g.producer[d]);
    __builtin_prefetch(g.label.data() + g.producer[d]);  // read by place()
  }
  for (std::uint32_t d : m.output_ids) {
    if (d == detail::kNone) continue;
    for (std::uint32_t e = g.first_reader[d]; e != detail::kNone; e = g.in_next[e]) {
      children.push_back(g.in_owner[e]);
    }
  }
  auto dedupe = [](std::vector<NodeId>& ids) {
    if (ids.size() < 2) return;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  };
  dedupe(parents);
  dedupe(children);
  const std::uint64_t label = m.place(parents, children, spec.name);
  const NodeId id = m.append(spec);
  m.data.label.push_back(label);
  m.data.min_label = id == 0 ? label : std::min(m.data.min_label, label);
  m.data.max_label = id == 0 ? label : std::max(m.data.max_label, label);
  m.data.edge_count += parents.size() + children.size();
  return id;
}

void Graph::add_nodes(std::span<const NodeSpec> specs) {
  const std::unique_lock lock = exclusive();
  const std::size_t nodes = node_count();
  const std::size_t datasets = dataset_count();
  const std::size_t edges = edge_count();
  const std::size_t tags = impl_->data.tag_names.size();
  const std::size_t params = impl_->data.param_names.size();
  try {
    for (const NodeSpec& spec : specs) impl_->add(spec);
  } catch (...) {
    impl_->truncate(nodes, datasets);
    impl_->data.tag_names.truncate(tags);
    impl_->data.param_names.truncate(params);
    impl_->data.edge_count = edges;
    throw;
  }
}

void Graph::reserve(std::size_t nodes, std::size_t inputs) {
  const std::unique_lock lock = exclusive();
  auto& g = impl_->data;
  g.nodes.reserve(nodes);
  g.datasets.reserve(nodes);
  for (auto* v : {&g.in_begin, &g.out_begin, &g.param_begin, &g.tag_begin}) v->reserve(nodes + 1);
  g.in_dataset.reserve(inputs);
  g.in_owner.reserve(inputs);
  g.in_next.reserve(inputs);
  g.out_dataset.reserve(nodes);
  g.producer.reserve(nodes);
  g.first_reader.reserve(nodes);
  g.concept_step.reserve(nodes);
  g.cost.reserve(nodes);
  g.label.reserve(nodes);
}

void Graph::validate() const {
  const ReadLock hold = read_lock();
  const auto& g = impl_->data;
  std::string message;
  std::string first_node;
  std::string first_dataset;
  for (NodeId n = 0; n < g.node_count(); ++n) {
    for (DatasetId d : g.inputs(n)) {
      if (g.producer[d] != detail::kNone) continue;
      if (!message.empty()) message += "; ";
      message += "node " + quoted(g.nodes.name(n)) + " needs input " + quoted(g.datasets.name(d)) +
                 ", which no node produces";
      if (first_node.empty()) {
        first_node = g.nodes.name(n);
        first_dataset = g.datasets.name(d);
      }
    }
  }
  if (!message.empty()) throw MissingInputError(message, first_node, first_dataset);
}

std::size_t Graph::node_count() const noexcept { return impl_->data.node_count(); }
std::size_t Graph::dataset_count() const noexcept { return impl_->data.datasets.size(); }
std::size_t Graph::edge_count() const noexcept { return impl_->data.edge_count; }

namespace {

void check_node(const detail::GraphData& g, NodeId id) {
  if (id >= g.node_count()) throw std::out_of_range("no node with id " + std::to_string(id));
}
void check_dataset(const detail::GraphData& g, DatasetId id) {
  if (id >= g.datasets.size()) throw std::out_of_range("no dataset with id " + std::to_string(id));
}

}  // namespace

const std::string& Graph::node_name(NodeId id) const {
  check_node(impl_->data, id);
  return impl_->data.nodes.name(id);
}

std::optional<NodeId> Graph::find_node(std::string_view name) const {
  return impl_->data.nodes.find(name);
}

NodeId Graph::node_id(std::string_view name) const {
  if (auto id = find_node(name)) return *id;
  throw SelectionError("unknown node " + quoted(name));
}

const std::string& Graph::dataset_name(DatasetId id) const {
  check_dataset(impl_->data, id);
  return impl_->data.datasets.name(id);
}

std::optional<DatasetId> Graph::find_dataset(std::string_view name) const {
  return impl_->data.datasets.find(name);
}

std::span<const DatasetId> Graph::inputs(NodeId id) const {
  check_node(impl_->data, id);
  return impl_->data.inputs(id);
}

std::span<const DatasetId> Graph::outputs(NodeId id) const {
  check_node(impl_->data, id);
  return impl_->data.outputs(id);
}

std::vector<std::string> Graph::params(NodeId id) const {
  const auto& g = impl_->data;
  check_node(g, id);
  std::vector<std::string> names;
  for (std::uint32_t i = g.param_begin[id]; i < g.param_begin[id + 1]; ++i) {
    names.push_back(g.param_names.name(g.param_id[i]));
  }
  return names;
}

std::vector<std::string> Graph::tags(NodeId id) const {
  const auto& g = impl_->data;
  check_node(g, id);
  std::vector<std::string> names;
  for (std::uint32_t i = g.tag_begin[id]; i < g.tag_begin[id + 1]; ++i) {
    names.push_back(g.tag_names.name(g.tag_id[i]));
  }
  return names;
}

bool Graph::is_concept(NodeId id) const {
  check_node(impl_->data, id);
  return impl_->data.concept_step[id] != 0;
}

double Graph::cost(NodeId id) const {
  check_node(impl_->data, id);
  return impl_->data.cost[id];
}

NodeId Graph::producer(DatasetId id) const {
  check_dataset(impl_->data, id);
  const NodeId p = impl_->data.producer[id];
  return p == detail::kNone ? kNoNode : p;
}

std::span<const NodeId> Graph::consumers(DatasetId id) const {
  check_dataset(impl_->data, id);
  const auto& v = impl_->derived();
  return {v.consumer_node.data() + v.consumer_begin[id],
          v.consumer_node.data() + v.consumer_begin[id + 1]};
}

std::vector<NodeId> Graph::parents(NodeId id) const {
  check_node(impl_->data, id);
  std::vector<NodeId> out;
  impl_->data.for_each_parent(id, [&](NodeId p) { out.push_back(p); });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<NodeId> Graph::children(NodeId id) const {
  check_node(impl_->data, id);
  std::vector<NodeId> out;
  impl_->data.for_each_child(id, [&](NodeId c) { out.push_back(c); });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace mlops
