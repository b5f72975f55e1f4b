// Property tests: thousands of seeded random DAGs, declared in random order,
// checked against brute-force references (reachability by closure, Kahn by
// repeated scans, a set-based plan).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mlops/errors.hpp"
#include "mlops/fingerprint.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"

namespace {

using mlops::Graph;
using mlops::NodeId;
using Ids = std::vector<NodeId>;

std::string indexed(char prefix, std::size_t i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

// A random DAG over "logical" nodes 0..n-1 (edges only from lower to higher
// logical index), declared in a random order. parents are logical indices.
struct RandomDag {
  std::size_t n = 0;
  std::vector<std::set<std::size_t>> parents;  // logical
  std::vector<std::size_t> declared;           // declaration position -> logical
  std::vector<std::size_t> id_of;              // logical -> node id
  std::vector<std::vector<std::string>> tags;
  std::vector<std::vector<std::string>> params;
  std::vector<bool> concept_step;

  mlops::NodeSpec spec(std::size_t logical) const {
    mlops::NodeSpec s;
    s.name = indexed('n', logical);
    for (std::size_t p : parents[logical]) s.inputs.push_back(indexed('d', p));
    for (const std::string& param : params[logical]) s.inputs.push_back("params:" + param);
    s.outputs = {indexed('d', logical)};
    s.tags = tags[logical];
    s.is_concept = concept_step[logical];
    return s;
  }
};

RandomDag random_dag(std::mt19937& rng, std::size_t max_nodes) {
  RandomDag dag;
  dag.n = std::uniform_int_distribution<std::size_t>(1, max_nodes)(rng);
  dag.parents.resize(dag.n);
  dag.tags.resize(dag.n);
  dag.params.resize(dag.n);
  dag.concept_step.resize(dag.n);
  std::bernoulli_distribution coin(0.3);
  for (std::size_t v = 0; v < dag.n; ++v) {
    const int fan_in = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int k = 0; k < fan_in && v > 0; ++k) {
      dag.parents[v].insert(std::uniform_int_distribution<std::size_t>(0, v - 1)(rng));
    }
    if (coin(rng)) dag.tags[v].push_back(indexed('t', rng() % 3));
    if (coin(rng)) dag.params[v].push_back(indexed('p', rng() % 3));
    dag.concept_step[v] = std::bernoulli_distribution(0.05)(rng);
  }
  dag.declared.resize(dag.n);
  for (std::size_t i = 0; i < dag.n; ++i) dag.declared[i] = i;
  std::shuffle(dag.declared.begin(), dag.declared.end(), rng);
  dag.id_of.resize(dag.n);
  for (std::size_t i = 0; i < dag.n; ++i) dag.id_of[dag.declared[i]] = static_cast<NodeId>(i);
  return dag;
}

Graph build(const RandomDag& dag) {
  Graph g;
  for (std::size_t logical : dag.declared) g.add_node(dag.spec(logical));
  return g;
}

// Reference reachability over node ids: reach[a][b] when a path a -> ... -> b exists.
std::vector<std::vector<bool>> closure(const Graph& g) {
  const std::size_t n = g.node_count();
  std::vector<std::vector<bool>> reach(n, std::vector<bool>(n, false));
  for (NodeId s = 0; s < n; ++s) {
    Ids stack = g.children(s);
    while (!stack.empty()) {
      const NodeId x = stack.back();
      stack.pop_back();
      if (reach[s][x]) continue;
      reach[s][x] = true;
      for (NodeId c : g.children(x)) stack.push_back(c);
    }
  }
  return reach;
}

Ids reference_kahn(const Graph& g) {
  const std::size_t n = g.node_count();
  std::vector<bool> done(n, false);
  Ids order;
  while (order.size() < n) {
    for (NodeId v = 0; v < n; ++v) {
      if (done[v]) continue;
      const Ids ps = g.parents(v);
      if (std::all_of(ps.begin(), ps.end(), [&](NodeId p) { return done[p]; })) {
        done[v] = true;
        order.push_back(v);
        break;
      }
    }
  }
  return order;
}

Ids in_order(const Ids& order, const std::vector<bool>& member) {
  Ids out;
  for (NodeId v : order) {
    if (member[v]) out.push_back(v);
  }
  return out;
}

TEST(GraphProperty, OrdersReachabilityAndSelection) {
  std::mt19937 rng(20240611);
  for (int round = 0; round < 1500; ++round) {
    const RandomDag dag = random_dag(rng, 24);
    const Graph g = build(dag);
    ASSERT_NO_THROW(g.validate());
    const std::size_t n = g.node_count();
    const auto reach = closure(g);
    const Ids order = g.topological_order();
    ASSERT_EQ(order, reference_kahn(g)) << "round " << round;

    std::size_t edges = 0;
    for (NodeId v = 0; v < n; ++v) edges += g.parents(v).size();
    EXPECT_EQ(g.edge_count(), edges);
    for (std::size_t v = 0; v < dag.n; ++v) {
      std::set<NodeId> expected;
      for (std::size_t p : dag.parents[v]) expected.insert(dag.id_of[p]);
      const Ids ps = g.parents(dag.id_of[v]);
      ASSERT_EQ(std::set<NodeId>(ps.begin(), ps.end()), expected);
    }

    // Ancestors/descendants of a random set.
    Ids start;
    std::vector<bool> in_start(n, false);
    for (NodeId v = 0; v < n; ++v) {
      if (rng() % 4 == 0) {
        start.push_back(v);
        in_start[v] = true;
      }
    }
    std::vector<bool> up(n, false);
    std::vector<bool> down(n, false);
    for (NodeId s : start) {
      for (NodeId v = 0; v < n; ++v) {
        if (reach[v][s] && !in_start[v]) up[v] = true;
        if (reach[s][v] && !in_start[v]) down[v] = true;
      }
    }
    ASSERT_EQ(g.ancestors(start), in_order(order, up));
    ASSERT_EQ(g.descendants(start), in_order(order, down));

    // A random selection against the definition: intersect the given lists.
    mlops::Selection sel;
    std::vector<bool> chosen(n, true);
    if (rng() % 2) {
      const NodeId a = static_cast<NodeId>(rng() % n);
      sel.from = {g.node_name(a)};
      for (NodeId v = 0; v < n; ++v) chosen[v] = chosen[v] && (v == a || reach[a][v]);
    }
    if (rng() % 2) {
      const NodeId b = static_cast<NodeId>(rng() % n);
      sel.to = {g.node_name(b)};
      for (NodeId v = 0; v < n; ++v) chosen[v] = chosen[v] && (v == b || reach[v][b]);
    }
    if (rng() % 3 == 0) {
      const std::string tag = indexed('t', rng() % 3);
      sel.tags = {tag};
      for (NodeId v = 0; v < n; ++v) {
        const auto t = g.tags(v);
        chosen[v] = chosen[v] && std::find(t.begin(), t.end(), tag) != t.end();
      }
    }
    const Ids expected = in_order(order, chosen);
    bool tag_known = sel.tags.empty();
    for (NodeId v = 0; v < n && !tag_known; ++v) {
      const auto t = g.tags(v);
      tag_known = std::find(t.begin(), t.end(), sel.tags[0]) != t.end();
    }
    if (expected.empty() || !tag_known) {
      EXPECT_THROW(g.select(sel), mlops::SelectionError);
    } else {
      EXPECT_EQ(g.select(sel), expected);
    }

    // Levels: one more than the deepest parent.
    std::vector<std::size_t> level(n, 0);
    for (NodeId v : order) {
      for (NodeId p : g.parents(v)) level[v] = std::max(level[v], level[p] + 1);
    }
    const auto levels = g.levels();
    for (std::size_t l = 0; l < levels.size(); ++l) {
      for (NodeId v : levels[l]) EXPECT_EQ(level[v], l);
    }
  }
}

bool has_cycle(const std::vector<std::set<std::size_t>>& children, std::size_t n) {
  std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
  std::function<bool(std::size_t)> dfs = [&](std::size_t v) {
    state[v] = 1;
    for (std::size_t c : children[v]) {
      if (state[c] == 1 || (state[c] == 0 && dfs(c))) return true;
    }
    state[v] = 2;
    return false;
  };
  for (std::size_t v = 0; v < n; ++v) {
    if (state[v] == 0 && dfs(v)) return true;
  }
  return false;
}

TEST(GraphProperty, CycleDetectedExactlyWhenAnExtraEdgeClosesOne) {
  std::mt19937 rng(777);
  int cycles = 0;
  for (int round = 0; round < 3000; ++round) {
    RandomDag dag = random_dag(rng, 16);
    // Extra edge a -> b: b also reads a's output. A cycle iff a == b or b reaches a.
    const std::size_t a = rng() % dag.n;
    const std::size_t b = rng() % dag.n;
    dag.parents[b].insert(a);
    // The brute-force reference, per declaration prefix.
    std::vector<std::set<std::size_t>> children(dag.n);
    std::vector<bool> present(dag.n, false);
    std::size_t expected_failure = dag.n;  // declaration position of the first cycle
    for (std::size_t i = 0; i < dag.n && expected_failure == dag.n; ++i) {
      present[dag.declared[i]] = true;
      for (std::size_t v = 0; v < dag.n; ++v) {
        children[v].clear();
      }
      for (std::size_t v = 0; v < dag.n; ++v) {
        for (std::size_t p : dag.parents[v]) {
          if (present[v] && present[p]) children[p].insert(v);
        }
      }
      if (has_cycle(children, dag.n)) expected_failure = i;
    }
    Graph g;
    std::size_t failed_at = dag.n;
    std::vector<std::string> cycle;
    for (std::size_t i = 0; i < dag.n; ++i) {
      try {
        g.add_node(dag.spec(dag.declared[i]));
      } catch (const mlops::CycleError& e) {
        failed_at = i;
        cycle = e.cycle();
        break;
      }
    }
    ASSERT_EQ(failed_at, expected_failure) << "round " << round;
    if (failed_at == dag.n) continue;
    ++cycles;
    EXPECT_EQ(g.node_count(), failed_at);
    // The reported cycle is real: each step is an edge of the full graph.
    ASSERT_GE(cycle.size(), 2u);
    EXPECT_EQ(cycle.front(), cycle.back());
    for (std::size_t k = 0; k + 1 < cycle.size(); ++k) {
      const std::size_t from = std::stoul(cycle[k].substr(1));
      const std::size_t to = std::stoul(cycle[k + 1].substr(1));
      EXPECT_TRUE(dag.parents[to].contains(from)) << cycle[k] << " -> " << cycle[k + 1];
    }
    // The graph is unchanged and still acyclic.
    EXPECT_EQ(g.topological_order().size(), failed_at);
  }
  EXPECT_GT(cycles, 300);  // the generator does produce cycles
}

TEST(GraphProperty, FingerprintsChangeExactlyDownstream) {
  std::mt19937 rng(99);
  for (int round = 0; round < 1000; ++round) {
    const RandomDag dag = random_dag(rng, 20);
    const Graph g = build(dag);
    const std::size_t n = g.node_count();
    mlops::FingerprintInput input;
    for (NodeId v = 0; v < n; ++v) input.code_hashes.push_back(indexed('c', rng() % 1000));
    for (int p = 0; p < 3; ++p) input.param_digests[indexed('p', p)] = indexed('v', p);
    const auto base = mlops::fingerprint(g, input).node_keys;
    const auto reach = closure(g);

    const NodeId changed = static_cast<NodeId>(rng() % n);
    auto code_changed = input;
    code_changed.code_hashes[changed] += "'";
    const auto after = mlops::fingerprint(g, code_changed).node_keys;
    for (NodeId v = 0; v < n; ++v) {
      EXPECT_EQ(after[v] != base[v], v == changed || reach[changed][v]);
    }

    const std::string param = indexed('p', rng() % 3);
    auto param_changed = input;
    param_changed.param_digests[param] = "other";
    const auto after_param = mlops::fingerprint(g, param_changed).node_keys;
    std::vector<bool> readers(n, false);
    for (NodeId v = 0; v < n; ++v) {
      const auto ps = g.params(v);
      readers[v] = std::find(ps.begin(), ps.end(), param) != ps.end();
    }
    for (NodeId v = 0; v < n; ++v) {
      bool affected = readers[v];
      for (NodeId u = 0; u < n; ++u) affected = affected || (readers[u] && reach[u][v]);
      EXPECT_EQ(after_param[v] != base[v], affected);
    }
  }
}

// The plan rules restated over sets, node by node, without the engine's passes.
struct ReferencePlan {
  std::vector<mlops::Action> actions;
  bool error = false;
};

ReferencePlan reference_plan(const Graph& g, const std::vector<bool>& selected,
                             const std::vector<bool>& stored, const std::vector<bool>& cacheable,
                             bool force, const std::vector<std::vector<bool>>& reach) {
  const std::size_t n = g.node_count();
  ReferencePlan out;
  out.actions.assign(n, mlops::Action::skip);
  for (NodeId v = 0; v < n; ++v) {
    if (!selected[v]) continue;
    bool blocked = g.is_concept(v);
    for (NodeId c = 0; c < n; ++c) {
      blocked = blocked || (selected[c] && g.is_concept(c) && reach[c][v]);
    }
    if (blocked) {
      out.actions[v] = mlops::Action::not_started;
    } else if (cacheable[v] && !force && stored[v]) {
      out.actions[v] = mlops::Action::reuse;
    } else {
      out.actions[v] = mlops::Action::run;
    }
  }
  for (NodeId u = 0; u < n; ++u) {
    if (selected[u]) continue;
    for (NodeId c : g.children(u)) {
      if (out.actions[c] != mlops::Action::run) continue;
      if (g.is_concept(u) || !stored[u]) out.error = true;
      out.actions[u] = mlops::Action::reuse;
    }
  }
  return out;
}

TEST(GraphProperty, PlanMatchesReference) {
  std::mt19937 rng(4242);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    const RandomDag dag = random_dag(rng, 18);
    const Graph g = build(dag);
    const std::size_t n = g.node_count();
    const auto reach = closure(g);
    std::vector<bool> stored(n);
    std::vector<bool> cacheable(n);
    for (NodeId v = 0; v < n; ++v) {
      stored[v] = rng() % 2 == 0;
      cacheable[v] = rng() % 5 != 0;
    }
    const bool force = rng() % 6 == 0;
    mlops::Selection sel;
    std::vector<bool> selected(n, true);
    if (rng() % 3 != 0) {
      const NodeId a = static_cast<NodeId>(rng() % n);
      sel.from = {g.node_name(a)};
      for (NodeId v = 0; v < n; ++v) selected[v] = v == a || reach[a][v];
    }
    const ReferencePlan expected = reference_plan(g, selected, stored, cacheable, force, reach);
    if (expected.error) {
      ++errors;
      EXPECT_THROW(mlops::plan_stored(g, stored, cacheable, sel, force), mlops::SelectionError);
      continue;
    }
    const mlops::Plan p = mlops::plan_stored(g, stored, cacheable, sel, force);
    ASSERT_EQ(p.actions, expected.actions) << "round " << round;
    Ids to_run;
    for (NodeId v : g.topological_order()) {
      if (expected.actions[v] == mlops::Action::run) to_run.push_back(v);
    }
    EXPECT_EQ(p.to_run, to_run);
  }
  EXPECT_GT(errors, 50);
}

}  // namespace
