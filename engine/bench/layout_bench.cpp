// The layout's speed on random layered DAGs (each box reads one to three
// boxes from the three layers before its own), from 100 to 10,000 boxes: the
// scale goal is 10,000 boxes in under a second. Crossings are reported as a
// counter so a change that buys speed with quality shows up here too.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>

#include "mlops/layout.hpp"

namespace {

mlops::LayoutInput random_layered(std::size_t n, std::size_t width, std::uint32_t seed) {
  std::mt19937 rng(seed);
  mlops::LayoutInput input;
  for (std::size_t v = 0; v < n; ++v) {
    input.widths.push_back(60.0 + static_cast<double>(rng() % 12) * 10.0);
    input.heights.push_back(34.0);
  }
  for (std::size_t v = width; v < n; ++v) {
    const std::size_t layer = v / width;
    const std::size_t low = (layer > 3 ? layer - 3 : 0) * width;
    const std::size_t high = layer * width;
    const std::size_t fan_in = 1 + rng() % 3;
    for (std::size_t k = 0; k < fan_in; ++k)
      input.edges.emplace_back(low + rng() % (high - low), v);
  }
  return input;
}

void BM_Layout(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto width = static_cast<std::size_t>(state.range(1));
  const mlops::LayoutInput input = random_layered(n, width, 1);
  std::size_t crossings = 0;
  for (auto _ : state) {
    mlops::LayoutResult result = mlops::layout(input);
    crossings = result.crossings;
    benchmark::DoNotOptimize(result);
  }
  state.counters["crossings"] = static_cast<double>(crossings);
  state.counters["edges"] = static_cast<double>(input.edges.size());
}
BENCHMARK(BM_Layout)
    ->Args({100, 10})
    ->Args({1000, 30})
    ->Args({5000, 70})
    ->Args({10000, 100})
    ->Unit(benchmark::kMillisecond);

// A sweep drawn flat: one box fanning out to 2,000 two-step branches.
void BM_LayoutWideFanOut(benchmark::State& state) {
  const auto width = static_cast<std::size_t>(state.range(0));
  mlops::LayoutInput input;
  const std::size_t n = 3 + 2 * width;
  input.widths.assign(n, 90.0);
  input.heights.assign(n, 34.0);
  for (std::size_t i = 0; i < width; ++i) {
    input.edges.emplace_back(0, 1 + i);
    input.edges.emplace_back(1 + i, 1 + width + i);
    input.edges.emplace_back(1 + width + i, n - 1);
  }
  for (auto _ : state) benchmark::DoNotOptimize(mlops::layout(input));
}
BENCHMARK(BM_LayoutWideFanOut)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
