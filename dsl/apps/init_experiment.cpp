// ctnn_init_experiment: the initialization experiment of seeds 000 and 004.
// Ten layers of 500 units on 1000 unit-Gaussian samples; per layer the mean
// and standard deviation of the activations, for tanh with N(0, 0.01²),
// N(0, 1) and Xavier weights and for ReLU with Xavier and He weights.
// Prints the seeds' lines and a summary table, writes a CSV; the plot is
// drawn by scripts/plot_init_experiment.py (scripts/init_experiment.sh runs both).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "command_line.hpp"
#include <models/init_experiment.hpp>

namespace {

namespace fs = std::filesystem;
namespace ie = ctnn::models::init_experiment;

constexpr std::size_t samples = 1000;  // the seeds' D = np.random.randn(1000, 500); the model's batch size

struct options {
  std::uint64_t seed = 1;
  int threads = 1;
  fs::path out = "out/init_experiment";
};

using ctnn_apps::parse_number;
using ctnn_apps::usage_error;

// Registers the flags on `app`; each checks its value and stores it in `o`.
void add_flags(CLI::App& app, options& o) {
  const options d;
  app.description(
      "Per-layer activation statistics of a 10 x 500 network on unit-Gaussian input\n"
      "for five initializations (seeds 000/004).");
  app.get_formatter()->column_width(16);
  app.set_help_flag("-h,--help", "this text");
  ctnn_apps::add_flag_with_value(app, "--seed", "S",
                                 "seed for the input and the weights (default " + std::to_string(d.seed) + ")",
                                 [&o](const std::string& t) { o.seed = parse_number<std::uint64_t>("--seed", t); });
  // More threads than this is a typo: OpenMP would try to start them all.
  const int most_threads = std::max(256, omp_get_num_procs());
  ctnn_apps::add_flag_with_value(app, "--threads", "T", "OpenMP threads (default " + std::to_string(d.threads) + ")",
                                 [&o, most_threads](const std::string& t) {
                                   o.threads = parse_number<int>("--threads", t);
                                   if (o.threads < 1 || o.threads > most_threads)
                                     throw usage_error("--threads must lie between 1 and " +
                                                       std::to_string(most_threads) + ", not " + t);
                                 });
  ctnn_apps::add_flag_with_value(app, "--out", "DIR",
                                 "where init_experiment.csv goes (default " + d.out.string() + ")",
                                 [&o](const std::string& t) { o.out = t; });
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"", "ctnn_init_experiment"};
  add_flags(app, o);
  if (const auto status = ctnn_apps::parse_command_line(app, argc, argv)) return *status;
  omp_set_num_threads(o.threads);

  const auto data = ie::unit_gaussian_input(samples, o.seed);
  const auto runs = ie::run_all<samples>(data, o.seed);

  // The seeds' printout, per run.
  for (const auto& r : runs) {
    std::printf("== %s\n", std::string(r.description).c_str());
    std::printf("input layer had mean %f and std %f\n", r.input.mean, r.input.stddev);
    for (std::size_t l = 0; l < ie::depth; ++l)
      std::printf("hidden layer %zu had mean %f and std %f\n", l + 1, r.layers[l].mean, r.layers[l].stddev);
  }

  // Side by side: the std of every layer, and the shares of saturated (tanh)
  // and zero (ReLU) units at the last layer.
  std::printf("\nstd per layer (%zu samples x %zu units, seed %llu)\n%-8s", samples, ie::width,
              static_cast<unsigned long long>(o.seed), "layer");
  for (const auto& r : runs) std::printf(" %18s", std::string(r.name).c_str());
  std::printf("\n");
  for (std::size_t l = 0; l < ie::depth; ++l) {
    std::printf("%-8zu", l + 1);
    for (const auto& r : runs) std::printf(" %18.6g", r.layers[l].stddev);
    std::printf("\n");
  }
  const auto share = [](bool shown, double fraction) {
    if (shown) std::printf(" %17.1f%%", 100.0 * fraction);
    else std::printf(" %18s", "-");
  };
  std::printf("%-8s", "|h|>=.99");
  for (const auto& r : runs) share(r.saturating, r.layers[ie::depth - 1].saturated);
  std::printf("  (layer 10, tanh)\n%-8s", "h == 0");
  for (const auto& r : runs) share(!r.saturating, r.layers[ie::depth - 1].zero);
  std::printf("  (layer 10, ReLU)\n");

  std::error_code ec;
  fs::create_directories(o.out, ec);
  const fs::path csv = o.out / "init_experiment.csv";
  std::ofstream f(csv);
  if (ec || !f) {
    std::fprintf(stderr, "ctnn_init_experiment: cannot write '%s'\n", csv.c_str());
    return 1;
  }
  f << "scheme,description,layer,mean,std,mean_abs,saturated,zero\n";
  char line[256];
  for (const auto& r : runs)
    for (std::size_t l = 0; l <= ie::depth; ++l) {
      const ctnn::activation_stats& s = l == 0 ? r.input : r.layers[l - 1];
      std::snprintf(line, sizeof line, ",%zu,%.9g,%.9g,%.9g,%.9g,%.9g\n", l, s.mean, s.stddev, s.mean_abs, s.saturated,
                    s.zero);
      f << r.name << ",\"" << r.description << '"' << line;
    }
  f.close();
  if (!f) {
    std::fprintf(stderr, "ctnn_init_experiment: cannot write '%s'\n", csv.c_str());
    return 1;
  }
  std::printf("\nwrote %s\n", csv.c_str());
  return 0;
}
