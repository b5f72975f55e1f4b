// The graph's scale target: a 1,000,000-node, 3,000,000-edge random layered
// DAG built from names, validated, fingerprinted and planned, with the peak
// resident memory (VmHWM) reported as a counter. Also the smaller steps alone.
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mlops/fingerprint.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"

namespace {

constexpr std::size_t kLayerWidth = 1000;
constexpr std::size_t kFanIn = 3;

std::string indexed(char prefix, std::size_t i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

// Nodes n0.. in layers of kLayerWidth; each node outside the first layer
// reads kFanIn distinct datasets of random earlier nodes. One NodeSpec is
// reused, so the benchmark measures the graph, not the caller's allocations.
mlops::Graph build_layered(std::size_t nodes, std::uint32_t seed) {
  mlops::Graph g;
  g.reserve(nodes, nodes * kFanIn);
  std::mt19937 rng(seed);
  mlops::NodeSpec spec;
  spec.outputs.resize(1);
  for (std::size_t v = 0; v < nodes; ++v) {
    spec.name = indexed('n', v);
    spec.outputs[0] = indexed('d', v);
    spec.inputs.clear();
    const std::size_t earlier = v - v % kLayerWidth;  // nodes in previous layers
    while (earlier > kFanIn && spec.inputs.size() < kFanIn) {
      std::string input = indexed('d', rng() % earlier);
      bool repeated = false;
      for (const std::string& seen : spec.inputs) repeated = repeated || seen == input;
      if (!repeated) spec.inputs.push_back(std::move(input));
    }
    g.add_node(spec);
  }
  return g;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0.0;
}

mlops::FingerprintInput code_hashes_for(std::size_t nodes) {
  mlops::FingerprintInput input;
  input.code_hashes.reserve(nodes);
  // Realistic code hashes: 64 hex digits each.
  for (std::size_t v = 0; v < nodes; ++v)
    input.code_hashes.push_back(mlops::sha256_hex(indexed('f', v % 997)));
  return input;
}

void BM_BuildValidateFingerprintPlan(benchmark::State& state) {
  const auto nodes = static_cast<std::size_t>(state.range(0));
  const mlops::FingerprintInput input = code_hashes_for(nodes);
  for (auto _ : state) {
    mlops::Graph g = build_layered(nodes, 7);
    g.validate();
    const mlops::FingerprintDigests keys = mlops::fingerprint_digests(g, input);
    // Every third node stored: a partly cached re-run.
    std::vector<bool> stored(nodes);
    for (std::size_t v = 0; v < nodes; ++v) stored[v] = keys.node_keys[v][0] % 3 == 0;
    const mlops::Plan plan = mlops::plan_stored(g, stored, {}, {}, false);
    benchmark::DoNotOptimize(plan.to_run.data());
    state.counters["edges"] = static_cast<double>(g.edge_count());
    state.counters["to_run"] = static_cast<double>(plan.to_run.size());
  }
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_BuildValidateFingerprintPlan)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_Build(benchmark::State& state) {
  const auto nodes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    mlops::Graph g = build_layered(nodes, 7);
    benchmark::DoNotOptimize(g.edge_count());
  }
}
BENCHMARK(BM_Build)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_TopologicalOrder(benchmark::State& state) {
  const mlops::Graph g = build_layered(static_cast<std::size_t>(state.range(0)), 7);
  for (auto _ : state) {
    const mlops::Graph copy = g;  // a fresh graph: the order is cached per graph
    benchmark::DoNotOptimize(copy.topological_order().data());
  }
}
BENCHMARK(BM_TopologicalOrder)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_Fingerprint(benchmark::State& state) {
  const auto nodes = static_cast<std::size_t>(state.range(0));
  const mlops::Graph g = build_layered(nodes, 7);
  const mlops::FingerprintInput input = code_hashes_for(nodes);
  for (auto _ : state) {
    benchmark::DoNotOptimize(mlops::fingerprint_digests(g, input).node_keys.data());
  }
}
BENCHMARK(BM_Fingerprint)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_ReverseOrderBuild(benchmark::State& state) {
  // Nodes declared sinks first: every addition lands before its readers.
  const auto nodes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    mlops::Graph g;
    mlops::NodeSpec spec;
    for (std::size_t i = nodes; i-- > 0;) {
      spec.name = indexed('n', i);
      spec.inputs.assign(i == 0 ? 0 : 1, indexed('d', i - 1));
      spec.outputs = {indexed('d', i)};
      g.add_node(spec);
    }
    benchmark::DoNotOptimize(g.edge_count());
  }
}
BENCHMARK(BM_ReverseOrderBuild)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
