#!/usr/bin/env python3
"""Compile cost of Boost.Hana against ctnn's constexpr style, for the two
places Hana would fit: matching a call's feeds to leaves by name, and finding
options in a layer's option pack.

Generates, for each place, a translation unit with N uses written both ways
(plus the same file with no uses, to subtract the headers' cost), compiles
each with every compiler several times and prints the fastest CPU time
(user + system) and peak memory. Needs libboost-dev (Boost 1.74 or newer).

    python3 bench/compile/hana_vs_constexpr.py [--uses 120] [--repeat 5]
"""
import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile

PRELUDE = r'''
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
template <std::size_t N> struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) { for (std::size_t i = 0; i < N; ++i) chars[i] = s[i]; }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};
template <fixed_string Name, class T, int Tag> struct feed_t {
  static constexpr auto name = Name;
  const T* data;
};
inline constexpr std::array<std::string_view, 4> leaves{"image", "class", "mask", "aux"};
struct no_bias {};
template <int K> struct weight_init {};
template <int K> struct bias_init {};
template <int K> struct tag {};
'''

HANA_INCLUDES = r'''
#include <boost/hana/at.hpp>
#include <boost/hana/bool.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/find_if.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
namespace hana = boost::hana;
'''

# Feeds: the leaf slot of every feed is a constexpr array computed once per
# call type; each leaf then takes its feed by index from the pack.
FEEDS_CONSTEXPR = r'''
template <std::size_t K, class First, class... Rest>
constexpr const auto& nth_feed(const First& first, const Rest&... rest) {
  if constexpr (K == 0) return first; else return nth_feed<K - 1>(rest...);
}
template <class... F> struct feed_match {
  static constexpr std::array<std::string_view, sizeof...(F)> names{F::name.view()...};
  static constexpr std::array<std::size_t, 4> feed_of = [] {
    std::array<std::size_t, 4> f{};
    for (std::size_t l = 0; l < 4; ++l)
      for (std::size_t k = 0; k < names.size(); ++k) if (names[k] == leaves[l]) f[l] = k;
    return f;
  }();
};
template <class... F> double bind(const F&... f) {
  using M = feed_match<F...>;
  return *nth_feed<M::feed_of[0]>(f...).data + *nth_feed<M::feed_of[1]>(f...).data +
         *nth_feed<M::feed_of[2]>(f...).data + *nth_feed<M::feed_of[3]>(f...).data;
}
'''

# Feeds as a hana::tuple of references, each leaf found by index_if.
FEEDS_HANA = r'''
template <std::size_t L, class... F>
constexpr decltype(auto) find_leaf(const hana::tuple<F...>& t) {
  return hana::at(t, hana::index_if(t, [](const auto& f) {
    return hana::bool_c<std::remove_cvref_t<decltype(f)>::name.view() == leaves[L]>;
  }).value());
}
template <class... F> double bind(const F&... f) {
  const hana::tuple<const F&...> t{f...};
  return *find_leaf<0>(t).data + *find_leaf<1>(t).data + *find_leaf<2>(t).data + *find_leaf<3>(t).data;
}
'''

# Options: the weight initializer (first match, or a default) and whether
# no_bias is present.
OPTIONS_CONSTEXPR = r'''
template <class O> struct winit_of { using type = void; };
template <int K> struct winit_of<weight_init<K>> { using type = weight_init<K>; };
template <class Default, class... T> struct first_non_void { using type = Default; };
template <class Default, class T, class... Rest> struct first_non_void<Default, T, Rest...> {
  using type = std::conditional_t<std::is_void_v<T>, typename first_non_void<Default, Rest...>::type, T>;
};
template <class... O> struct layer {
  using winit = typename first_non_void<weight_init<0>, typename winit_of<O>::type...>::type;
  static constexpr bool has_bias = !(std::is_same_v<O, no_bias> || ...);
};
'''

OPTIONS_HANA = r'''
template <class O> struct is_winit : std::false_type {};
template <int K> struct is_winit<weight_init<K>> : std::true_type {};
template <class... O> struct layer {
  static constexpr auto opts = hana::tuple_t<O...>;
  using winit = typename decltype(+hana::find_if(opts, hana::trait<is_winit>)
                                      .value_or(hana::type_c<weight_init<0>>))::type;
  static constexpr bool has_bias = !decltype(hana::contains(opts, hana::type_c<no_bias>))::value;
};
'''


def feed_calls(n):
    perms = list(itertools.permutations(["image", "class", "mask", "aux"]))
    lines = ["double run(const double* p) {", "  double s = 0;"]
    for i in range(n):
        order, tag = perms[i % len(perms)], i // len(perms)
        args = ", ".join(f'feed_t<"{name}", double, {tag}>{{p}}' for name in order)
        lines.append(f"  s += bind({args});")
    lines += ["  return s;", "}", "int main() { double x = 1; return int(run(&x)); }"]
    return "\n".join(lines) + "\n"


def option_uses(n):
    lines = []
    for i in range(n):
        opts = [f"tag<{i}>"] + (["no_bias"] if i % 2 else []) + ([f"weight_init<{i % 7 + 1}>"] if i % 3 else [])
        opts.append(f"bias_init<{i % 5}>")
        opts = opts[i % len(opts):] + opts[:i % len(opts)]
        layer = f"layer<{', '.join(opts)}>"
        lines.append(f"static_assert(sizeof(typename {layer}::winit) == 1 && {layer}::has_bias == {'false' if i % 2 else 'true'});")
    return "\n".join(lines) + "\nint main() {}\n"


def cost(cxx, path, repeat):
    """Fastest user+system CPU seconds and largest peak RSS (MB) of `repeat` compiles."""
    best, peak = float("inf"), 0
    for _ in range(repeat):
        child = subprocess.Popen([cxx, "-std=c++20", "-O2", "-c", path, "-o", os.devnull])
        _, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            sys.exit(f"hana_vs_constexpr: {cxx} failed on {path}")
        best = min(best, usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss // 1024)
    return best, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uses", type=int, default=120, help="uses per translation unit (default 120)")
    ap.add_argument("--repeat", type=int, default=5, help="compiles per row, fastest kept (default 5)")
    args = ap.parse_args()
    if not os.path.exists("/usr/include/boost/hana.hpp"):
        sys.exit("hana_vs_constexpr: Boost.Hana is not installed (apt-get install libboost-dev)")
    compilers = [c for c in ("g++", "clang++-16") if shutil.which(c)]
    cases = [
        ("feeds", "constexpr arrays", "", FEEDS_CONSTEXPR, feed_calls),
        ("feeds", "hana::tuple + index_if", HANA_INCLUDES, FEEDS_HANA, feed_calls),
        ("options", "partial specializations", "", OPTIONS_CONSTEXPR, option_uses),
        ("options", "hana::tuple_t + find_if", HANA_INCLUDES, OPTIONS_HANA, option_uses),
    ]
    print(f"| compiler | use | written with | headers only (s) | {args.uses} uses (s) | per use (ms) | peak (MB) |")
    print("|---|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for cxx in compilers:
            for place, style, includes, body, uses in cases:
                empty, full = os.path.join(tmp, "empty.cpp"), os.path.join(tmp, "full.cpp")
                with open(empty, "w") as f:
                    f.write(PRELUDE + includes + body + uses(0))
                with open(full, "w") as f:
                    f.write(PRELUDE + includes + body + uses(args.uses))
                base, _ = cost(cxx, empty, args.repeat)
                total, peak = cost(cxx, full, args.repeat)
                per_use = max(total - base, 0) / args.uses * 1000
                print(f"| {cxx} | {place} | {style} | {base:.2f} | {total:.2f} | {per_use:.1f} | {peak} |", flush=True)


if __name__ == "__main__":
    main()
