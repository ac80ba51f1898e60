// Training hyper-parameters are exact in the trainer's scalar type: ten steps
// of a double trainer (one dense layer, squared error) follow a reference
// written here in plain double loops, for every optimizer, the training
// options, a learning-rate multiplier and a schedule. The learning rates
// (0.1, 1e-3, ...) are not exact in float, so hyper-parameters kept as float
// fail these checks (measured: 7e-10 to 2e-7 relative, against 6e-16 with
// double). A float trainer computes what it computed when they were float.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace exact_hp {
inline constexpr std::size_t F = 5, O = 3, B = 4, steps = 10;
inline constexpr std::size_t nw = F * O, np = nw + O;  // the reference's layout: W [F, O] row-major, then b
inline constexpr auto x = ctnn::input<"x", ctnn::shape<F>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"fit", O>(x), ctnn::input<"t", ctnn::shape<O>>)));
}  // namespace exact_hp

namespace {

using namespace exact_hp;
using vec_d = std::vector<double>;

// Deterministic across standard libraries: raw mt19937_64 bits only.
struct rng {
  std::mt19937_64 gen;
  explicit rng(std::uint64_t seed) : gen(seed * 0x9e3779b97f4a7c15ull + 1) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53; }
};

// One batch per step.
struct data {
  vec_d X, T;
  data() : X(steps * B * F), T(steps * B * O) {
    rng r(11);
    for (double& v : X) v = r.uniform(-1, 1);
    for (double& v : T) v = r.uniform(-1, 1);
  }
  const double* x(std::size_t k) const { return X.data() + k * B * F; }
  const double* t(std::size_t k) const { return T.data() + k * B * O; }
};

// ½·mean over the batch of ‖xW + b − t‖², and its gradient.
double loss_and_gradient(const vec_d& p, const double* X, const double* T, vec_d& g, std::size_t batch = B) {
  std::fill(g.begin(), g.end(), 0.0);
  double loss = 0;
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t j = 0; j < O; ++j) {
      double y = p[nw + j];
      for (std::size_t i = 0; i < F; ++i) y += X[b * F + i] * p[i * O + j];
      const double r = y - T[b * O + j];
      loss += 0.5 * r * r / double(batch);
      for (std::size_t i = 0; i < F; ++i) g[i * O + j] += X[b * F + i] * r / double(batch);
      g[nw + j] += r / double(batch);
    }
  return loss;
}

// The optimizers' formulas (docs: ctnn/train/optim/*.hpp), one plain loop each.
struct sgd_ref {
  double lr, momentum, weight_decay;
  static constexpr std::size_t buffers = 1;
  void update(vec_d& w, const vec_d& g, std::vector<vec_d>& s, std::size_t) const {
    for (std::size_t i = 0; i < w.size(); ++i) {
      s[0][i] = momentum * s[0][i] - lr * (g[i] + weight_decay * w[i]);
      w[i] += s[0][i];
    }
  }
};
struct nesterov_ref {
  double lr, momentum, weight_decay;
  static constexpr std::size_t buffers = 1;
  void update(vec_d& w, const vec_d& g, std::vector<vec_d>& s, std::size_t) const {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double v_prev = s[0][i];
      s[0][i] = momentum * v_prev - lr * (g[i] + weight_decay * w[i]);
      w[i] += -momentum * v_prev + (1 + momentum) * s[0][i];
    }
  }
};
struct adagrad_ref {
  double lr, eps, weight_decay;
  static constexpr std::size_t buffers = 1;
  void update(vec_d& w, const vec_d& g, std::vector<vec_d>& s, std::size_t) const {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double gi = g[i] + weight_decay * w[i];
      s[0][i] += gi * gi;
      w[i] -= lr * gi / (std::sqrt(s[0][i]) + eps);
    }
  }
};
struct rmsprop_ref {
  double lr, decay_rate, eps, weight_decay;
  static constexpr std::size_t buffers = 1;
  void update(vec_d& w, const vec_d& g, std::vector<vec_d>& s, std::size_t) const {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double gi = g[i] + weight_decay * w[i];
      s[0][i] = decay_rate * s[0][i] + (1 - decay_rate) * gi * gi;
      w[i] -= lr * gi / (std::sqrt(s[0][i]) + eps);
    }
  }
};
struct adam_ref {
  double lr, beta1, beta2, eps, weight_decay;
  static constexpr std::size_t buffers = 2;
  void update(vec_d& w, const vec_d& g, std::vector<vec_d>& s, std::size_t t) const {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double gi = g[i] + weight_decay * w[i];
      s[0][i] = beta1 * s[0][i] + (1 - beta1) * gi;
      s[1][i] = beta2 * s[1][i] + (1 - beta2) * gi * gi;
      const double m_hat = s[0][i] / (1 - std::pow(beta1, double(t)));
      const double v_hat = s[1][i] / (1 - std::pow(beta2, double(t)));
      w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

// The training options and the bias's learning-rate multiplier, in step()'s
// order (ctnn/train/options.hpp). Only the weight is regularized.
struct options_ref {
  double l2 = 0, l1 = 0, clip_value = 0, clip_norm = 0, max_norm = 0, ema_decay = 0;
  double bias_multiplier = 1;
};

// The parameters in the reference's layout, from the model's flat buffer.
template <class Model>
vec_d parameters_of(Model& m) {
  const auto w = m.param_span("fit.weight"), b = m.param_span("fit.bias");
  vec_d p(w.begin(), w.end());
  p.insert(p.end(), b.begin(), b.end());
  return p;
}

// max |got − want| / max |want|: relative to the vector's scale (an element
// near 0 has no relative accuracy to speak of).
double relative_error(const vec_d& got, const vec_d& want) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::abs(got[i] - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return diff / scale;
}

struct no_schedule {};

// Ten steps of trainer<net, batch<4>, Opt, double> and of the reference from
// the same initial parameters; returns the largest relative difference of a
// parameter (and of the average, with ema_decay) after any step.
template <class Opt, class Ref, class Schedule = no_schedule>
double double_run_error(Opt opt, Ref ref, const ctnn::training_options& options = {}, const options_ref& o = {},
                        Schedule schedule = {}) {
  const data d;
  ctnn::trainer<net, ctnn::batch<B>, Opt, double> t(opt, 7, options);
  if (o.bias_multiplier != 1) t.set_lr_multiplier("fit.bias", o.bias_multiplier);
  vec_d w = parameters_of(t.model()), g(np), shadow = w;
  std::vector<vec_d> s(Ref::buffers, vec_d(np, 0.0));
  double worst = 0;
  for (std::size_t k = 0; k < steps; ++k) {
    if constexpr (!std::is_same_v<Schedule, no_schedule>) {
      t.optimizer().lr = schedule.lr_at(k);
      ref.lr = schedule.lr_at(k);
    }
    const double loss = t.step(ctnn::feed<"x">(d.x(k)), ctnn::feed<"t">(d.t(k)));
    const double loss_ref = loss_and_gradient(w, d.x(k), d.t(k), g);
    worst = std::max(worst, std::abs(loss - loss_ref) / loss_ref);

    for (std::size_t i = 0; i < nw; ++i) g[i] += o.l2 * w[i] + o.l1 * double((w[i] > 0) - (w[i] < 0));
    const vec_d before = w;
    if (o.clip_value > 0)
      for (double& e : g) e = std::clamp(e, -o.clip_value, o.clip_value);
    if (o.clip_norm > 0) {
      double sq = 0;
      for (double e : g) sq += e * e;
      if (std::sqrt(sq) > o.clip_norm)
        for (double& e : g) e *= o.clip_norm / std::sqrt(sq);
    }
    ref.update(w, g, s, k + 1);
    for (std::size_t j = nw; j < np; ++j) w[j] = before[j] + o.bias_multiplier * (w[j] - before[j]);
    if (o.max_norm > 0)
      for (std::size_t j = 0; j < O; ++j) {
        double sq = 0;
        for (std::size_t i = 0; i < F; ++i) sq += w[i * O + j] * w[i * O + j];
        if (std::sqrt(sq) > o.max_norm)
          for (std::size_t i = 0; i < F; ++i) w[i * O + j] *= o.max_norm / std::sqrt(sq);
      }
    worst = std::max(worst, relative_error(parameters_of(t.model()), w));
    if (o.ema_decay > 0) {
      for (std::size_t i = 0; i < np; ++i) shadow[i] = o.ema_decay * shadow[i] + (1 - o.ema_decay) * w[i];
      const vec_d avg = t.with_averaged_parameters([&] { return parameters_of(t.model()); });
      worst = std::max(worst, relative_error(avg, shadow));
    }
  }
  return worst;
}

constexpr double tolerance = 1e-13;

void check_error(double err) {
  INFO("largest relative difference from the double reference: " << err);
  CHECK(err <= tolerance);
}

}  // namespace

TEST_CASE("a double trainer follows a double reference: sgd and momentum", "[optim][double]") {
  SECTION("plain sgd, lr 0.1") {
    check_error(double_run_error(ctnn::optim::sgd{.lr = 0.1, .momentum = 0.0}, sgd_ref{0.1, 0.0, 0.0}));
  }
  SECTION("momentum 0.9, weight decay 1e-3") {
    check_error(double_run_error(ctnn::optim::sgd{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3},
                                 sgd_ref{0.1, 0.9, 1e-3}));
  }
  SECTION("nesterov") {
    check_error(double_run_error(ctnn::optim::nesterov{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3},
                                 nesterov_ref{0.05, 0.9, 1e-3}));
  }
}

TEST_CASE("a double trainer follows a double reference: adagrad, rmsprop, adam", "[optim][double]") {
  SECTION("adagrad") {
    check_error(double_run_error(ctnn::optim::adagrad{.lr = 0.1, .eps = 1e-7, .weight_decay = 1e-3},
                                 adagrad_ref{0.1, 1e-7, 1e-3}));
  }
  SECTION("rmsprop") {
    check_error(double_run_error(ctnn::optim::rmsprop{.lr = 1e-2, .decay_rate = 0.9, .eps = 1e-7, .weight_decay = 1e-3},
                                 rmsprop_ref{1e-2, 0.9, 1e-7, 1e-3}));
  }
  SECTION("adam, defaults") {
    check_error(double_run_error(ctnn::optim::adam{}, adam_ref{1e-3, 0.9, 0.999, 1e-8, 0.0}));
  }
  SECTION("adam, lr 0.1, weight decay 1e-3") {
    check_error(double_run_error(ctnn::optim::adam{.lr = 0.1, .weight_decay = 1e-3},
                                 adam_ref{0.1, 0.9, 0.999, 1e-8, 1e-3}));
  }
}

TEST_CASE("a double trainer follows a double reference: options, multiplier, schedule", "[optim][double]") {
  SECTION("l2, l1, clipping by value and norm, max-norm, averaging, bias multiplier 0.1") {
    const ctnn::training_options options{
        .l2 = 1e-3, .l1 = 1e-4, .clip_value = 0.3, .clip_norm = 0.7, .max_norm = 0.9, .ema_decay = 0.9};
    const options_ref o{.l2 = 1e-3, .l1 = 1e-4, .clip_value = 0.3, .clip_norm = 0.7, .max_norm = 0.9,
                        .ema_decay = 0.9, .bias_multiplier = 0.1};
    check_error(double_run_error(ctnn::optim::sgd{.lr = 0.1, .momentum = 0.9}, sgd_ref{0.1, 0.9, 0.0}, options, o));
  }
  SECTION("adam under a cosine schedule with warm-up") {
    check_error(double_run_error(ctnn::optim::adam{}, adam_ref{1e-3, 0.9, 0.999, 1e-8, 0.0}, {}, {},
                                 ctnn::schedule::cosine{.lr0 = 0.03, .total_steps = steps, .warmup_steps = 3}));
  }
}

// ---------------------------------------------------------------------------
// L-BFGS (whose settings were double already) in double: ten iterations from
// the model's initial parameters against the same algorithm written here
// (ctnn/train/optim/lbfgs.hpp: two-loop recursion, backtracking).

namespace {

struct lbfgs_ref {
  std::size_t batch, history;
  double armijo, backtrack;

  double minimize(vec_d& x, std::size_t iterations, const double* X, const double* T) const {
    const std::size_t n = x.size(), m = history;
    vec_d g(n), g_new(n), d(n), x_new(n), s(m * n), y(m * n), rho(m), alpha(m);
    auto dot = [n](const double* a, const double* b) {
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
      return sum;
    };
    std::size_t stored = 0, newest = 0;
    double f = loss_and_gradient(x, X, T, g, batch);
    for (std::size_t it = 0; it < iterations; ++it) {
      d = g;
      for (std::size_t k = 0; k < stored; ++k) {
        const std::size_t j = (newest + m - k) % m;
        alpha[j] = rho[j] * dot(&s[j * n], d.data());
        for (std::size_t i = 0; i < n; ++i) d[i] -= alpha[j] * y[j * n + i];
      }
      const double gamma = stored > 0 ? 1.0 / (rho[newest] * dot(&y[newest * n], &y[newest * n]))
                                      : std::min(1.0, 1.0 / std::sqrt(dot(g.data(), g.data())));
      for (double& e : d) e *= gamma;
      for (std::size_t k = stored; k-- > 0;) {
        const std::size_t j = (newest + m - k) % m;
        const double beta = rho[j] * dot(&y[j * n], d.data());
        for (std::size_t i = 0; i < n; ++i) d[i] += (alpha[j] - beta) * s[j * n + i];
      }
      for (double& e : d) e = -e;
      const double gd = dot(g.data(), d.data());
      REQUIRE(gd < 0);  // a descent direction: the case this reference covers
      double a = 1, f_new = f;
      for (bool accepted = false; !accepted; a *= backtrack) {
        for (std::size_t i = 0; i < n; ++i) x_new[i] = x[i] + a * d[i];
        f_new = loss_and_gradient(x_new, X, T, g_new, batch);
        accepted = f_new <= f + armijo * a * gd ||
                   (f_new <= f + 1e-10 * std::abs(f) && dot(g_new.data(), d.data()) <= (2 * armijo - 1) * gd);
      }
      const std::size_t slot = stored == 0 ? 0 : (newest + 1) % m;
      for (std::size_t i = 0; i < n; ++i) {
        s[slot * n + i] = x_new[i] - x[i];
        y[slot * n + i] = g_new[i] - g[i];
      }
      const double sy = dot(&s[slot * n], &y[slot * n]), yy = dot(&y[slot * n], &y[slot * n]);
      REQUIRE((sy > std::numeric_limits<double>::epsilon() * yy && yy > 0));  // positive curvature
      rho[slot] = 1.0 / sy;
      newest = slot;
      stored = std::min(stored + 1, m);
      x.swap(x_new);
      g.swap(g_new);
      f = f_new;
    }
    return f;
  }
};

}  // namespace

TEST_CASE("a double L-BFGS follows a double reference", "[optim][double][lbfgs]") {
  // 16 samples, the first four batches: more equations than unknowns, so the
  // loss stays away from 0 and keeps its relative accuracy.
  constexpr std::size_t batch = 16;
  const data d;
  ctnn::model<net, batch, double> m(7);
  vec_d x = parameters_of(m);
  // History 3 < 10 iterations: the ring buffer wraps.
  const ctnn::optim::lbfgs opt{.history = 3, .max_iterations = steps, .tolerance = 0.0, .armijo = 1e-4, .backtrack = 0.3};
  const ctnn::optim::lbfgs_result r = opt.minimize(m, ctnn::feed<"x">(d.x(0)), ctnn::feed<"t">(d.t(0)));
  const double f = lbfgs_ref{batch, 3, 1e-4, 0.3}.minimize(x, steps, d.x(0), d.t(0));
  CHECK(r.iterations == steps);
  const double err = std::max(relative_error(parameters_of(m), x), std::abs(r.loss - f) / f);
  INFO("largest relative difference from the double reference: " << err);
  CHECK(err <= tolerance);
}

// ---------------------------------------------------------------------------
// Float: the hyper-parameters reach the update as the floats they were
// (float(0.1) == 0.1f), and Adam's bias correction is computed, as before, in
// double from the float β's. The final losses were recorded with float
// hyper-parameters (gcc 12, AVX-512), where they agree bit for bit; the
// tolerance leaves room for another SIMD width's summation order.

namespace {

// A copy of Adam as it was with float hyper-parameters.
struct float_adam {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  std::size_t t = 0;
  static constexpr std::size_t state_buffers = 2;

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* state) {
    ++t;
    const double b1 = double(beta1), b2 = double(beta2);
    const T step = T(double(lr) / (1.0 - std::pow(b1, double(t))));
    const T root_scale = T(1.0 / std::sqrt(1.0 - std::pow(b2, double(t))));
    const T beta_1 = T(beta1), beta_2 = T(beta2), e = T(eps), wd = T(weight_decay);
    const T one_minus_b1 = T(1) - beta_1, one_minus_b2 = T(1) - beta_2;
    T* m = state;
    T* v = state + ctnn::optim::state_stride<T>(N);
    namespace od = ctnn::optim::detail;
    od::parallel_fused_pass<N, T>([&]<class X>(std::size_t i) {
      const X wi = od::load<X>(w + i);
      const X gi = od::fma(X(wd), wi, od::load<X>(g + i));
      const X mi = od::fma(X(beta_1), od::load<X>(m + i), X(one_minus_b1) * gi);
      const X vi = od::fma(X(beta_2), od::load<X>(v + i), X(one_minus_b2) * gi * gi);
      od::store(m + i, mi);
      od::store(v + i, vi);
      od::store(w + i, wi - X(step) * mi / od::fma(od::sqrt(vi), X(root_scale), X(e)));
    });
  }
};

struct float_run {
  std::vector<float> params;
  float last_loss;
};

template <class Opt>
float_run run_float(Opt opt, const ctnn::training_options& options = {}, double bias_multiplier = 1) {
  const data d;
  const std::vector<float> X(d.X.begin(), d.X.end()), T(d.T.begin(), d.T.end());
  ctnn::trainer<net, ctnn::batch<B>, Opt, float> t(opt, 7, options);
  if (bias_multiplier != 1) t.set_lr_multiplier("fit.bias", bias_multiplier);
  float loss = 0;
  for (std::size_t k = 0; k < steps; ++k)
    loss = t.step(ctnn::feed<"x">(X.data() + k * B * F), ctnn::feed<"t">(T.data() + k * B * O));
  const auto p = t.model().parameters();
  return {{p.begin(), p.end()}, loss};
}

// Bit for bit the same parameters; the final loss near the recorded one.
void check_same(const float_run& a, const float_run& b, double recorded) {
  CHECK(a.params == b.params);
  CHECK(a.last_loss == b.last_loss);
  CHECK(double(a.last_loss) == Approx(recorded).epsilon(1e-6));
}

}  // namespace

TEST_CASE("a float trainer is unchanged: double-written settings give the float ones", "[optim][double][float]") {
  SECTION("sgd") {
    check_same(run_float(ctnn::optim::sgd{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3}),
               run_float(ctnn::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-3f}), 0.898154736);
  }
  SECTION("nesterov") {
    check_same(run_float(ctnn::optim::nesterov{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3}),
               run_float(ctnn::optim::nesterov{.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-3f}), 1.24032307);
  }
  SECTION("adagrad") {
    check_same(run_float(ctnn::optim::adagrad{.lr = 0.1, .eps = 1e-7, .weight_decay = 1e-3}),
               run_float(ctnn::optim::adagrad{.lr = 0.1f, .eps = 1e-7f, .weight_decay = 1e-3f}), 1.27486038);
  }
  SECTION("rmsprop") {
    check_same(run_float(ctnn::optim::rmsprop{.lr = 1e-2, .decay_rate = 0.9, .eps = 1e-7, .weight_decay = 1e-3}),
               run_float(ctnn::optim::rmsprop{.lr = 1e-2f, .decay_rate = 0.9f, .eps = 1e-7f, .weight_decay = 1e-3f}),
               1.75760674);
  }
  SECTION("adam: the defaults, and the float copy of Adam") {
    check_same(run_float(ctnn::optim::adam{}), run_float(float_adam{}), 2.08055401);
    check_same(run_float(ctnn::optim::adam{.lr = 0.1, .weight_decay = 1e-3}),
               run_float(float_adam{.lr = 0.1f, .weight_decay = 1e-3f}), 0.807412624);
  }
  SECTION("training options and a bias multiplier") {
    check_same(run_float(ctnn::optim::sgd{.lr = 0.1},
                         {.l2 = 1e-3, .l1 = 1e-4, .clip_value = 0.3, .clip_norm = 0.7, .max_norm = 0.9, .ema_decay = 0.9},
                         0.1),
               run_float(ctnn::optim::sgd{.lr = 0.1f},
                         {.l2 = 1e-3f, .l1 = 1e-4f, .clip_value = 0.3f, .clip_norm = 0.7f, .max_norm = 0.9f,
                          .ema_decay = 0.9f},
                         double(0.1f)),
               0.95448041);
  }
}
