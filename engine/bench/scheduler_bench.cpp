// Scheduler throughput: state transitions per second on one core, counting
// each hand-out by take_ready and each succeed as one transition, over a 1M-node
// random layered DAG, a 100k chain and a 100k-wide fan-out; and the time to
// construct a Scheduler for the 1M-node DAG. Graphs are built once per process.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mlops/graph.hpp"
#include "mlops/scheduler.hpp"

namespace mlops {
namespace {

// Appending (rather than "d" + to_string) sidesteps a GCC 12 -Wrestrict false positive.
std::string name(char prefix, std::size_t id) {
  std::string out(1, prefix);
  out.append(std::to_string(id));
  return out;
}

NodeSpec spec(std::size_t id, std::vector<std::string> inputs) {
  NodeSpec s;
  s.name = name('n', id);
  s.inputs = std::move(inputs);
  s.outputs = {name('d', id)};
  return s;
}

// `layers` layers of `width` nodes; each node reads 1-3 random nodes of the
// layer above, and costs vary so that priorities matter.
Graph layered(std::size_t layers, std::size_t width) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, width - 1);
  std::uniform_int_distribution<int> fan_in(1, 3);
  std::uniform_real_distribution<double> cost(0.5, 2.0);
  Graph graph;
  for (std::size_t layer = 0; layer < layers; ++layer) {
    for (std::size_t i = 0; i < width; ++i) {
      std::vector<std::string> inputs;
      if (layer > 0) {
        for (int k = fan_in(rng); k > 0; --k) {
          const std::string input = name('d', (layer - 1) * width + pick(rng));
          if (std::find(inputs.begin(), inputs.end(), input) == inputs.end()) {
            inputs.push_back(input);
          }
        }
      }
      NodeSpec s = spec(layer * width + i, std::move(inputs));
      s.cost = cost(rng);
      graph.add_node(s);
    }
  }
  return graph;
}

Graph chain(std::size_t n) {
  Graph graph;
  for (std::size_t i = 0; i < n; ++i) {
    graph.add_node(
        spec(i, i == 0 ? std::vector<std::string>{} : std::vector<std::string>{name('d', i - 1)}));
  }
  return graph;
}

Graph fan_out(std::size_t width) {
  Graph graph;
  graph.add_node(spec(0, {}));
  for (std::size_t i = 1; i <= width; ++i) graph.add_node(spec(i, {"d0"}));
  return graph;
}

const Graph& graph_for(int kind) {
  static const Graph big = layered(1000, 1000);
  static const Graph long_chain = chain(100'000);
  static const Graph wide = fan_out(100'000);
  switch (kind) {
    case 0:
      return big;
    case 1:
      return long_chain;
    default:
      return wide;
  }
}

const char* kind_name(int kind) {
  switch (kind) {
    case 0:
      return "layered_1M";
    case 1:
      return "chain_100k";
    default:
      return "fanout_100k";
  }
}

// A whole run where every node succeeds. range(0): the graph; range(1): the
// max_concurrency and the take_ready limit (0: hand out everything ready).
void BM_Run(benchmark::State& state) {
  const Graph& graph = graph_for(static_cast<int>(state.range(0)));
  const auto slots = static_cast<std::size_t>(state.range(1));
  const std::vector<NodeState> initial(graph.node_count(), NodeState::pending);
  std::vector<NodeId> batch;
  std::size_t transitions = 0;
  for (auto _ : state) {
    state.PauseTiming();
    SchedulerOptions options;
    options.max_concurrency = slots;
    Scheduler scheduler(graph, initial, options);
    state.ResumeTiming();
    while (!scheduler.finished()) {
      batch.clear();
      transitions += scheduler.take_ready_into(batch, slots == 0 ? SIZE_MAX : slots);
      for (NodeId node : batch) scheduler.succeed(node);
      transitions += batch.size();
    }
    benchmark::DoNotOptimize(scheduler.running_count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(transitions));
  std::string label = kind_name(static_cast<int>(state.range(0)));
  label.append(slots == 0 ? " take-all" : " slots=");
  if (slots != 0) label.append(std::to_string(slots));
  state.SetLabel(label);
}
BENCHMARK(BM_Run)
    ->ArgsProduct({{0, 1, 2}, {0, 1, 8}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Like BM_Run on the layered DAG, but one node in twenty fails once and is retried.
void BM_RunWithRetries(benchmark::State& state) {
  const Graph& graph = graph_for(0);
  const std::size_t n = graph.node_count();
  const std::vector<NodeState> initial(n, NodeState::pending);
  std::vector<std::uint32_t> retries(n, 0);
  for (std::size_t i = 0; i < n; i += 20) retries[i] = 1;
  std::vector<NodeId> batch;
  std::size_t transitions = 0;
  for (auto _ : state) {
    state.PauseTiming();
    SchedulerOptions options;
    options.max_concurrency = 8;
    options.retries = retries;
    Scheduler scheduler(graph, initial, options);
    state.ResumeTiming();
    while (!scheduler.finished()) {
      batch.clear();
      transitions += scheduler.take_ready_into(batch, 8);
      for (NodeId node : batch) {
        if (retries[node] != 0 && scheduler.attempts(node) == 1) {
          scheduler.fail(node);
        } else {
          scheduler.succeed(node);
        }
      }
      transitions += batch.size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(transitions));
}
BENCHMARK(BM_RunWithRetries)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Construct(benchmark::State& state) {
  const Graph& graph = graph_for(static_cast<int>(state.range(0)));
  const std::vector<NodeState> initial(graph.node_count(), NodeState::pending);
  for (auto _ : state) {
    Scheduler scheduler(graph, initial);
    benchmark::DoNotOptimize(scheduler.ready_count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * graph.node_count()));
  state.SetLabel(kind_name(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_Construct)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mlops

BENCHMARK_MAIN();
