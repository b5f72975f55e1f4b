// Bindings of the graph area: Graph, sha256_hex, fingerprint_keys, Action, Reason,
// Plan and plan. Thin: arguments are converted while holding the GIL, then
// long engine calls run with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "mlops/fingerprint.hpp"
#include "mlops/graph.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mlops::bindings {

namespace {

using Names = std::vector<std::string>;

// A str stands for a one-name list (as in `outputs="model"`); anything else
// must be an iterable of str.
Names to_names(nb::handle value, const char* what) {
  Names names;
  if (nb::isinstance<nb::str>(value)) {
    names.emplace_back(nb::cast<std::string>(value));
    return names;
  }
  if (!nb::hasattr(value, "__iter__")) {
    throw nb::type_error((std::string(what) + " must be a str or an iterable of str").c_str());
  }
  for (nb::handle item : nb::iter(value)) {
    if (!nb::isinstance<nb::str>(item)) {
      throw nb::type_error((std::string(what) + " must contain only str").c_str());
    }
    names.emplace_back(nb::cast<std::string>(item));
  }
  return names;
}

NodeSpec to_spec(nb::handle row) {
  const nb::tuple t = nb::tuple(row);
  if (t.size() < 3 || t.size() > 6) {
    throw nb::value_error(
        "each node is a tuple (name, inputs, outputs[, tags[, concept[, cost]]])");
  }
  NodeSpec spec;
  spec.name = nb::cast<std::string>(t[0]);
  spec.inputs = to_names(t[1], "inputs");
  spec.outputs = to_names(t[2], "outputs");
  if (t.size() > 3) spec.tags = to_names(t[3], "tags");
  if (t.size() > 4) spec.is_concept = nb::cast<bool>(t[4]);
  if (t.size() > 5) spec.cost = nb::cast<double>(t[5]);
  return spec;
}

Names dataset_names(const Graph& g, std::span<const DatasetId> ids) {
  Names names;
  names.reserve(ids.size());
  for (DatasetId d : ids) names.push_back(g.dataset_name(d));
  return names;
}

Selection to_selection(nb::handle only, nb::handle from, nb::handle to, nb::handle tags) {
  Selection s;
  s.only = to_names(only, "only");
  s.from = to_names(from, "from_nodes");
  s.to = to_names(to, "to_nodes");
  s.tags = to_names(tags, "tags");
  return s;
}

std::vector<double> costs_or_empty(const std::optional<std::vector<double>>& costs) {
  return costs ? *costs : std::vector<double>{};
}

void declare_graph_class(nb::module_& m) {
  nb::class_<Graph>(m, "Graph",
                    "A pipeline DAG: nodes reading and writing named datasets, with dense "
                    "integer ids in declaration order. Every add_node is checked at once "
                    "(reused name, second producer, cycle); validate() checks inputs.")
      .def(nb::init<>(), "An empty graph.")
      .def(
          "add_node",
          [](Graph& g, const std::string& name, nb::handle inputs, nb::handle outputs,
             nb::handle tags, bool is_concept, double cost) {
            NodeSpec spec{name,
                          to_names(inputs, "inputs"),
                          to_names(outputs, "outputs"),
                          to_names(tags, "tags"),
                          is_concept,
                          cost};
            return g.add_node(spec);
          },
          "name"_a, "inputs"_a, "outputs"_a, "tags"_a = nb::tuple(), "concept"_a = false,
          "cost"_a = 1.0,
          "Add a node and return its id. Inputs may be dataset names or 'params:<name>'. "
          "Raises DuplicateNodeError, DuplicateOutputError or CycleError, leaving the "
          "graph unchanged.")
      .def(
          "add_nodes",
          [](Graph& g, nb::handle nodes) {
            std::vector<NodeSpec> specs;
            for (nb::handle row : nb::iter(nodes)) specs.push_back(to_spec(row));
            // The GIL stays held: Python's per-node accessors (node_name, inputs...)
            // take no lock, so the GIL is what keeps them from seeing a half-added
            // node. Readers that release the GIL hold the graph's lock instead.
            g.add_nodes(specs);
          },
          "nodes"_a,
          "Add many nodes, each a tuple (name, inputs, outputs[, tags[, concept[, cost]]]), "
          "all or nothing: on an error the graph is left as it was. Waits for a planning "
          "or other whole-graph call running in another thread to finish.")
      .def("validate", &Graph::validate, nb::call_guard<nb::gil_scoped_release>(),
           "Raise MissingInputError if an input is produced by no node (the message names "
           "every such input and its reader). Releases the GIL.")
      .def_prop_ro("node_count", &Graph::node_count, "Number of nodes.")
      .def_prop_ro("dataset_count", &Graph::dataset_count, "Number of datasets (read or written).")
      .def_prop_ro("edge_count", &Graph::edge_count,
                   "Number of distinct (producer, consumer) node pairs.")
      .def(
          "node_names",
          [](const Graph& g) {
            Names names;
            names.reserve(g.node_count());
            for (NodeId i = 0; i < g.node_count(); ++i) names.push_back(g.node_name(i));
            return names;
          },
          "All node names in id (declaration) order.")
      .def("node_id", &Graph::node_id, "name"_a,
           "The id of the named node; SelectionError if unknown.")
      .def("node_name", &Graph::node_name, "id"_a, "The name of node `id`.")
      .def(
          "inputs", [](const Graph& g, NodeId id) { return dataset_names(g, g.inputs(id)); },
          "id"_a, "Dataset names the node reads (parameters excluded), in declared order.")
      .def(
          "outputs", [](const Graph& g, NodeId id) { return dataset_names(g, g.outputs(id)); },
          "id"_a, "Dataset names the node writes, in declared order.")
      .def("params", &Graph::params, "id"_a, "Parameter names the node reads, without 'params:'.")
      .def("tags", &Graph::tags, "id"_a, "The node's tags.")
      .def("is_concept", &Graph::is_concept, "id"_a, "Whether the node is a concept step.")
      .def("cost", &Graph::cost, "id"_a, "The node's expected duration.")
      .def(
          "datasets",
          [](const Graph& g) {
            Names names;
            names.reserve(g.dataset_count());
            for (DatasetId d = 0; d < g.dataset_count(); ++d) names.push_back(g.dataset_name(d));
            return names;
          },
          "All dataset names in order of first mention.")
      .def(
          "producer",
          [](const Graph& g, const std::string& dataset) -> std::optional<std::string> {
            const auto d = g.find_dataset(dataset);
            if (!d || g.producer(*d) == kNoNode) return std::nullopt;
            return g.node_name(g.producer(*d));
          },
          "dataset"_a, "The name of the node producing `dataset`, or None.")
      .def(
          "consumers",
          [](const Graph& g, const std::string& dataset) {
            Names names;
            if (const auto d = g.find_dataset(dataset)) {
              for (NodeId n : g.consumers(*d)) names.push_back(g.node_name(n));
            }
            return names;
          },
          "dataset"_a, "Names of the nodes reading `dataset`, in id order.")
      .def("parents", &Graph::parents, "id"_a, "Ids of the direct predecessors, ascending.")
      .def("children", &Graph::children, "id"_a, "Ids of the direct successors, ascending.")
      .def("topological_order", &Graph::topological_order, nb::call_guard<nb::gil_scoped_release>(),
           "Node ids in Kahn's order, ties broken by declaration order. Releases the GIL.")
      .def(
          "ancestors",
          [](const Graph& g, const std::vector<NodeId>& ids) { return g.ancestors(ids); }, "ids"_a,
          nb::call_guard<nb::gil_scoped_release>(),
          "Ids upstream of `ids` (excluding them), in topological order.")
      .def(
          "descendants",
          [](const Graph& g, const std::vector<NodeId>& ids) { return g.descendants(ids); },
          "ids"_a, nb::call_guard<nb::gil_scoped_release>(),
          "Ids downstream of `ids` (excluding them), in topological order.")
      .def(
          "select",
          [](const Graph& g, nb::handle only, nb::handle from_nodes, nb::handle to_nodes,
             nb::handle tags) {
            const Selection s = to_selection(only, from_nodes, to_nodes, tags);
            nb::gil_scoped_release release;
            return g.select(s);
          },
          nb::kw_only(), "only"_a = nb::tuple(), "from_nodes"_a = nb::tuple(),
          "to_nodes"_a = nb::tuple(), "tags"_a = nb::tuple(),
          "Selected node ids in topological order. Given lists intersect: `only` exactly "
          "these nodes, `from_nodes` these and downstream, `to_nodes` these and upstream, "
          "`tags` nodes with any of these tags. SelectionError on unknown names or tags, "
          "or when nothing is selected. Releases the GIL.")
      .def("levels", &Graph::levels, nb::call_guard<nb::gil_scoped_release>(),
           "Longest-path layering: lists of node ids, level 0 holding nodes without parents.")
      .def(
          "remaining_path",
          [](const Graph& g, const std::optional<std::vector<double>>& costs) {
            const std::vector<double> c = costs_or_empty(costs);
            nb::gil_scoped_release release;
            return g.remaining_path(c);
          },
          "costs"_a = nb::none(),
          "Per node, the largest sum of costs on a path from it to a sink (itself "
          "included); costs default to each node's cost.")
      .def(
          "critical_path",
          [](const Graph& g, const std::optional<std::vector<double>>& costs) {
            const std::vector<double> c = costs_or_empty(costs);
            nb::gil_scoped_release release;
            return g.critical_path(c);
          },
          "costs"_a = nb::none(),
          "(total cost, node ids) of the most expensive source-to-sink path. Releases the "
          "GIL.")
      .def("__len__", &Graph::node_count, "Number of nodes.")
      .def(
          "__repr__",
          [](const Graph& g) {
            return "<Graph nodes=" + std::to_string(g.node_count()) +
                   " datasets=" + std::to_string(g.dataset_count()) +
                   " edges=" + std::to_string(g.edge_count()) + ">";
          },
          "A short description.");
}

}  // namespace

void declare_fingerprints(nb::module_& m);  // bind_graph_plan.cpp

void declare_graph(nb::module_& m) {
  declare_graph_class(m);
  declare_fingerprints(m);
}

}  // namespace mlops::bindings
