// Properties of workspace planning, checked by brute force on random inputs
// (fixed seeds, so a failure replays): place_ranges never puts two ranges that
// are live at the same step on overlapping memory and needs at least the peak
// of what is live at once; make_plan's gradient and inference offsets keep
// every pair of buffers live at the same step apart, on random graphs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <ctnn/graph/plan.hpp>

namespace {

bool live_together(std::size_t first_a, std::size_t last_a, std::size_t first_b, std::size_t last_b) {
  return first_a <= last_b && first_b <= last_a;
}

bool memory_overlaps(std::size_t off_a, std::size_t size_a, std::size_t off_b, std::size_t size_b) {
  return size_a > 0 && size_b > 0 && off_a < off_b + size_b && off_b < off_a + size_a;
}

// Ranges as the planner's callers make them: first step below N, last step
// at or after it and at most N (a range alive past the last step).
template <std::size_t N>
std::array<ctnn::live_range, N> random_ranges(std::mt19937& rng) {
  std::uniform_int_distribution<std::size_t> step(0, N - 1);
  std::uniform_int_distribution<std::size_t> size(0, 70);
  std::uniform_int_distribution<int> coin(0, 3);
  std::array<ctnn::live_range, N> r{};
  for (auto& x : r) {
    x.first = step(rng);
    x.last = std::min(N, x.first + (coin(rng) == 0 ? N : step(rng) % 4));
    x.size = coin(rng) == 0 ? 0 : size(rng);
    if (coin(rng) == 0) x.size = ctnn::align_up(x.size);
  }
  return r;
}

template <std::size_t N>
void check_place_ranges(std::uint32_t seed) {
  std::mt19937 rng(seed);
  const auto r = random_ranges<N>(rng);
  std::array<std::size_t, N> off{};
  const std::size_t total = ctnn::place_ranges(r, off);
  INFO("N = " << N << ", seed = " << seed);
  for (std::size_t a = 0; a < N; ++a) {
    REQUIRE(off[a] + r[a].size <= total);
    for (std::size_t b = a + 1; b < N; ++b)
      if (live_together(r[a].first, r[a].last, r[b].first, r[b].last))
        REQUIRE_FALSE(memory_overlaps(off[a], r[a].size, off[b], r[b].size));
  }
  std::size_t peak = 0;
  for (std::size_t s = 0; s <= N; ++s) {
    std::size_t live = 0;
    for (const auto& x : r)
      if (x.first <= s && s <= x.last) live += x.size;
    peak = std::max(peak, live);
  }
  REQUIRE(total >= peak);
}

// A random DAG in topological order: leaves (inputs and labels) anywhere,
// compute nodes (the last node is one) reading up to max_inputs earlier
// nodes, some with a trainable parameter, some with scratch; losses read a
// compute node or an input and a label.
struct random_graph {
  std::vector<std::string> names;  // storage for the string_views
  std::vector<ctnn::node_info> nodes;
  std::vector<std::size_t> roots, outputs;
};

ctnn::shape_info flat(std::size_t n) { return {1, {n, 0, 0, 0}}; }

random_graph make_random_graph(std::size_t n, std::mt19937& rng) {
  random_graph g;
  g.names.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) g.names.push_back(std::string("n").append(std::to_string(i)));
  for (std::size_t i = 0; i < n; ++i) g.names.push_back(g.names[i] + ".weight");
  auto pick = [&](std::size_t hi) { return std::uniform_int_distribution<std::size_t>(0, hi)(rng); };
  g.nodes.resize(n);
  std::vector<std::size_t> labels, computes;
  for (std::size_t i = 0; i < n; ++i) {
    ctnn::node_info& x = g.nodes[i];
    x.name = g.names[i];
    x.out = flat(1 + pick(40));
    const bool last = i + 1 == n;  // a compute node, so there is an output
    const bool leaf = i == 0 || (!last && pick(4) == 0);
    if (leaf) {
      x.kind = "input";
      x.role = pick(2) == 0 ? ctnn::node_role::label : ctnn::node_role::input;
      x.input_gradient = x.role == ctnn::node_role::input && pick(3) == 0;
      (x.role == ctnn::node_role::label ? labels : computes).push_back(i);
      continue;
    }
    if (!last && !labels.empty() && !computes.empty() && pick(3) == 0) {
      x.kind = "loss";
      x.role = ctnn::node_role::loss;
      x.out = flat(1);
      x.arity = 2;
      x.input[0] = computes[pick(computes.size() - 1)];
      x.input[1] = labels[pick(labels.size() - 1)];
      g.roots.push_back(i);
      continue;
    }
    x.kind = "op";
    x.role = ctnn::node_role::compute;
    x.arity = 1 + pick(ctnn::max_inputs - 1);
    for (std::size_t k = 0; k < x.arity; ++k) x.input[k] = pick(i - 1);
    if (pick(2) == 0) {
      x.param_count = 1;
      x.params[0].name = g.names[n + i];
      x.params[0].shape = flat(1 + pick(20));
      x.params[0].trainable = pick(5) != 0;
      x.param_key[0] = ctnn::name_key(x.params[0].name);
    }
    x.scratch = pick(2) == 0 ? 0 : pick(30);
    computes.push_back(i);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (g.nodes[i].role == ctnn::node_role::compute && pick(5) == 0) g.outputs.push_back(i);
  if (g.outputs.empty()) g.outputs.push_back(n - 1);
  return g;
}

// Liveness worked out from the graph itself, not from the planner's ranges.
// Backward runs node N-1 first, at step N-1-i for node i; a gradient is
// written by the first consumer to run backward (or seeded at step 0 for a
// loss root) and read at its own node's step; an input's gradient is the
// caller's and stays live to the end.
struct pairs_checked {
  std::size_t gradients = 0, inference = 0;
};

template <std::size_t N>
void check_plan(std::uint32_t seed, std::size_t n, pairs_checked& checked) {
  std::mt19937 rng(seed);
  const random_graph g = make_random_graph(n, rng);
  std::array<ctnn::node_info, N> nodes{};
  std::copy(g.nodes.begin(), g.nodes.end(), nodes.begin());
  // Unused slots: empty labels nobody reads, with nothing to place.
  for (std::size_t i = n; i < N; ++i) {
    nodes[i].kind = "input";
    nodes[i].name = "unused";
    nodes[i].role = ctnn::node_role::label;
    nodes[i].out = flat(0);
  }
  // make_plan's roots and outputs are fixed-size arrays: pad by repeating one.
  std::array<std::size_t, 4> roots{}, outputs{};
  const std::size_t nr = std::min<std::size_t>(g.roots.size(), 4), no = std::min<std::size_t>(g.outputs.size(), 4);
  for (std::size_t k = 0; k < 4; ++k) {
    roots[k] = nr == 0 ? g.outputs[0] : g.roots[k % nr];
    outputs[k] = g.outputs[k % no];
  }
  const auto p = ctnn::make_plan(nodes, roots, outputs);
  INFO("N = " << N << ", nodes = " << n << ", seed = " << seed);

  // Training: gradients.
  constexpr std::size_t never = std::size_t(-1);
  std::array<std::size_t, N> grad_first{}, grad_last{}, grad_size{};
  for (std::size_t c = 0; c < N; ++c) {
    grad_first[c] = never;
    if (!p.needs_grad[c]) continue;
    std::size_t writer = never;
    for (std::size_t k = c + 1; k < N; ++k)
      for (std::size_t a = 0; a < nodes[k].arity; ++a)
        if (nodes[k].input[a] == c && p.needs_grad[k]) writer = k;
    grad_first[c] = p.is_loss_root[c] ? 0 : writer == never ? N - 1 - c : N - 1 - writer;
    grad_last[c] = nodes[c].role == ctnn::node_role::input ? N : N - 1 - c;
    grad_size[c] = nodes[c].out.size();
    REQUIRE(p.grad_offset[c] + grad_size[c] <= p.grad_elems);
  }
  for (std::size_t a = 0; a < N; ++a)
    for (std::size_t b = a + 1; b < N; ++b)
      if (grad_first[a] != never && grad_first[b] != never &&
          live_together(grad_first[a], grad_last[a], grad_first[b], grad_last[b])) {
        ++checked.gradients;
        INFO("gradients of nodes " << a << " and " << b);
        REQUIRE_FALSE(memory_overlaps(p.grad_offset[a], grad_size[a], p.grad_offset[b], grad_size[b]));
      }

  // Training: values are all kept to backward, so none may share memory.
  for (std::size_t a = 0; a < N; ++a)
    for (std::size_t b = a + 1; b < N; ++b)
      if (nodes[a].role != ctnn::node_role::input && nodes[b].role != ctnn::node_role::input)
        REQUIRE_FALSE(memory_overlaps(p.value_offset[a], nodes[a].out.size(), p.value_offset[b], nodes[b].out.size()));

  // Inference: node i runs at step i; its output lives to its last reader in
  // inference (to the end for an output), its scratch during step i only.
  struct buffer {
    std::size_t first, last, offset, size, node;
  };
  std::vector<buffer> infer;
  for (std::size_t i = 0; i < N; ++i) {
    if (!p.in_inference[i] || nodes[i].role == ctnn::node_role::input) continue;
    std::size_t last = i;
    for (std::size_t k = i + 1; k < N; ++k)
      for (std::size_t a = 0; a < nodes[k].arity; ++a)
        if (nodes[k].input[a] == i && p.in_inference[k]) last = k;
    if (p.is_output[i]) last = N;
    infer.push_back({i, last, p.infer_offset[i], nodes[i].out.size(), i});
    infer.push_back({i, i, p.infer_scratch_offset[i], nodes[i].scratch, i});
  }
  for (const buffer& x : infer) REQUIRE(x.offset + x.size <= p.infer_elems);
  for (std::size_t a = 0; a < infer.size(); ++a)
    for (std::size_t b = a + 1; b < infer.size(); ++b)
      if (live_together(infer[a].first, infer[a].last, infer[b].first, infer[b].last)) {
        ++checked.inference;
        INFO("inference buffers of nodes " << infer[a].node << " and " << infer[b].node);
        REQUIRE_FALSE(memory_overlaps(infer[a].offset, infer[a].size, infer[b].offset, infer[b].size));
      }
}

}  // namespace

TEST_CASE("place_ranges: live-together ranges never share memory, total at least the peak", "[plan][property]") {
  for (std::uint32_t seed = 1; seed <= 100; ++seed) {
    check_place_ranges<1>(seed);
    check_place_ranges<7>(seed);
    check_place_ranges<24>(seed);
    check_place_ranges<64>(seed);
  }
}

TEST_CASE("make_plan: gradient, value and inference buffers live together never overlap", "[plan][property]") {
  // 300 graphs: small ones padded with unused slots, full ones, large ones.
  pairs_checked checked;
  for (std::uint32_t seed = 1; seed <= 100; ++seed) {
    check_plan<8>(seed, 2 + seed % 7, checked);
    check_plan<16>(1000 + seed, 16, checked);
    check_plan<48>(2000 + seed, 20 + seed % 29, checked);
  }
  // Not vacuous: many pairs of buffers were live together.
  CHECK(checked.gradients > 500);
  CHECK(checked.inference > 1000);
}
