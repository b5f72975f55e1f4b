// Bindings of fingerprints and the run plan: sha256_hex, fingerprint_keys, Action,
// Reason, Plan and plan (part of the graph area, see bind_graph.cpp).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unordered_map.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "mlops/fingerprint.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"
#include "mlops/scheduler.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mlops::bindings {

namespace {

std::vector<std::string> names_of(nb::handle value, const char* what) {
  std::vector<std::string> names;
  if (nb::isinstance<nb::str>(value)) {
    names.emplace_back(nb::cast<std::string>(value));
    return names;
  }
  for (nb::handle item : nb::iter(value)) {
    if (!nb::isinstance<nb::str>(item)) {
      throw nb::type_error((std::string(what) + " must contain only str").c_str());
    }
    names.emplace_back(nb::cast<std::string>(item));
  }
  return names;
}

}  // namespace

void declare_fingerprints(nb::module_& m) {
  m.def(
      "sha256_hex",
      [](nb::handle data) {
        std::string bytes;
        if (nb::isinstance<nb::bytes>(data)) {
          const auto b = nb::borrow<nb::bytes>(data);
          bytes.assign(b.c_str(), b.size());
        } else if (nb::isinstance<nb::str>(data)) {
          bytes = nb::cast<std::string>(data);  // UTF-8
        } else {
          throw nb::type_error("sha256_hex takes bytes or str");
        }
        nb::gil_scoped_release release;
        return sha256_hex(bytes);
      },
      "data"_a, "SHA-256 of bytes (or of a str's UTF-8 encoding) as 64 lowercase hex digits.");

  m.def(
      "fingerprint_keys",
      [](const Graph& graph, std::vector<std::string> code_hashes,
         std::unordered_map<std::string, std::string> param_digests) {
        FingerprintInput input{std::move(code_hashes), std::move(param_digests)};
        nb::gil_scoped_release release;
        return fingerprint_keys(graph, input);
      },
      "graph"_a, "code_hashes"_a, "param_digests"_a,
      "Each node's key (64 hex digits) per node id. A node's key hashes its code hash, the "
      "(name, digest) of each parameter it reads and its inputs' keys; concept steps pass '' "
      "as code hash. How keys are stored is the caller's choice. Raises PipelineError for a "
      "parameter without a digest, MissingInputError for an input nobody produces. "
      "Releases the GIL.");

  nb::enum_<Action>(m, "Action", "What a run does with a node.")
      .value("run", Action::run, "Execute the node's function.")
      .value("reuse", Action::reuse, "Take its stored outputs.")
      .value("skip", Action::skip, "Outside the selection and not needed.")
      .value("not_started", Action::not_started, "A concept step, or downstream of one.");

  nb::enum_<Reason>(m, "Reason", "Why the plan chose a node's action.")
      .value("not_stored", Reason::not_stored, "run: no stored outputs under its key.")
      .value("forced", Reason::forced, "run: caching turned off for this run.")
      .value("not_cacheable", Reason::not_cacheable, "run: the node has cache=False.")
      .value("cached", Reason::cached, "reuse: selected, and its outputs are stored.")
      .value("outside_selection", Reason::outside_selection,
             "reuse: not selected, but a running node needs its outputs.")
      .value("not_needed", Reason::not_needed, "skip: not selected and not needed.")
      .value("concept", Reason::concept_step, "not_started: a concept step.")
      .value("upstream_concept", Reason::upstream_concept,
             "not_started: downstream of a concept step.");

  nb::class_<Plan>(m, "Plan", "A run plan: an action and a reason per node id.")
      .def_ro("actions", &Plan::actions, "Action per node id.")
      .def_ro("reasons", &Plan::reasons, "Reason per node id.")
      .def_ro("to_run", &Plan::to_run, "Ids of the nodes to run, in topological order.")
      .def_prop_ro(
          "action_names",
          [](const Plan& plan) {
            return names_list(plan.actions, kActionCount, [](Action a) { return to_string(a); });
          },
          "Action names per node id: one shared str per action, no enum object per node.")
      .def_prop_ro(
          "reason_names",
          [](const Plan& plan) {
            return names_list(plan.reasons, kReasonCount, [](Reason r) { return to_string(r); });
          },
          "Reason names per node id (Python's names: 'concept' for a concept step).")
      .def_prop_ro(
          "initial_state_names",
          [](const Plan& plan) {
            return names_list(initial_states(plan), kNodeStateCount,
                              [](NodeState s) { return to_string(s); });
          },
          "NodeState names the scheduler starts each node in: run -> pending, reuse -> "
          "cached, skip -> excluded, not_started -> not_started.");

  m.def(
      "plan",
      [](const Graph& graph, std::vector<std::string> node_keys, nb::handle stored,
         std::optional<std::vector<bool>> cacheable, nb::handle only, nb::handle from_nodes,
         nb::handle to_nodes, nb::handle tags, bool force) {
        PlanInput input;
        input.node_keys = std::move(node_keys);
        for (nb::handle key : nb::iter(stored)) input.stored.insert(nb::cast<std::string>(key));
        if (cacheable) input.cacheable = std::move(*cacheable);
        input.selection.only = names_of(only, "only");
        input.selection.from = names_of(from_nodes, "from_nodes");
        input.selection.to = names_of(to_nodes, "to_nodes");
        input.selection.tags = names_of(tags, "tags");
        input.force = force;
        nb::gil_scoped_release release;
        return plan(graph, input);
      },
      "graph"_a, "node_keys"_a, "stored"_a, "cacheable"_a = nb::none(), "only"_a = nb::tuple(),
      "from_nodes"_a = nb::tuple(), "to_nodes"_a = nb::tuple(), "tags"_a = nb::tuple(),
      "force"_a = false,
      "Decide each node's action: selected concept steps and their descendants are "
      "not_started; other selected nodes are reused when cacheable, not forced and their key "
      "is in `stored`, else run; unselected nodes are reused if a running node reads their "
      "outputs, else skipped. SelectionError when a needed unselected output is not stored "
      "(or comes from a concept step). Releases the GIL.");
}

}  // namespace mlops::bindings
