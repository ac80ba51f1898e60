// ctnn_init_experiment: the initialization experiment of seeds 000 and 004.
// Ten layers of 500 units on 1000 unit-Gaussian samples; per layer the mean
// and standard deviation of the activations, for tanh with N(0, 0.01²),
// N(0, 1) and Xavier weights and for ReLU with Xavier and He weights.
// Prints the seeds' lines and a summary table, writes a CSV; the plot is
// drawn by scripts/plot_init_experiment.py (scripts/init_experiment.sh runs both).
#include <omp.h>

#include <charconv>
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
  bool help = false;
};

using ctnn_apps::usage_error;

void print_usage(std::FILE* f) {
  const options d;
  std::fprintf(f,
               "usage: ctnn_init_experiment [options]\n"
               "Per-layer activation statistics of a 10 x 500 network on unit-Gaussian input\n"
               "for five initializations (seeds 000/004).\n\n"
               "  --seed S      seed for the input and the weights (default %llu)\n"
               "  --threads T   OpenMP threads (default %d)\n"
               "  --out DIR     where init_experiment.csv goes (default %s)\n"
               "  --help        this text\n",
               static_cast<unsigned long long>(d.seed), d.threads, d.out.c_str());
}

using ctnn_apps::parse_number;

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto next = [&]() -> std::string_view {
      if (i + 1 >= argc) throw usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") o.help = true;
    else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, next());
    else if (arg == "--threads") o.threads = parse_number<int>(arg, next());
    else if (arg == "--out") o.out = std::string(next());
    else throw usage_error("unknown option '" + std::string(arg) + "'");
  }
  if (o.threads < 1) throw usage_error("--threads must be at least 1");
  if (o.out.empty()) throw usage_error("--out needs a non-empty directory");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = ctnn_apps::read_command_line("ctnn_init_experiment", argc, argv, o, parse_args, print_usage)) return *status;
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
