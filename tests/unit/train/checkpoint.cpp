// Checkpoints in .npz: a round trip gives identical predictions; every way
// a load can go wrong throws with the file and the tensor named and leaves
// the model untouched; a subset loads into another network that shares layer
// names (transfer learning), whose loaded layers then stay frozen.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/checkpoint.hpp>
#include <xtensor/xadapt.hpp>  // the reference .npy writer
#include <xtensor/xnpy.hpp>

#include "../../support/thrown.hpp"

namespace fs = std::filesystem;

namespace ck {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<12>>;
inline constexpr auto y = ctnn::label<"y", 3>;
// fc1 (no bias) → bn1 → relu → head
inline constexpr auto features = ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 16, ctnn::no_bias>(x)));
inline constexpr auto logits = ctnn::dense<"head", 3>(features);
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, y), ctnn::outputs(logits)));
// The same fc1 and bn1, then a new layer and a new head with 5 classes.
inline constexpr auto logits5 = ctnn::dense<"head5", 5>(ctnn::relu(ctnn::dense<"fc2", 8>(features)));
using transfer_net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits5, ctnn::label<"y", 5>),
                                            ctnn::outputs(logits5)));
// fc1 20 wide, then a layer back to 16, so that head has net's shapes.
inline constexpr auto logits_wide =
    ctnn::dense<"head", 3>(ctnn::relu(ctnn::dense<"mid", 16>(ctnn::relu(ctnn::dense<"fc1", 20, ctnn::no_bias>(x)))));
using wide_net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits_wide, y), ctnn::outputs(logits_wide)));
constexpr std::size_t B = 8;

std::vector<float> inputs() {
  std::vector<float> v(B * 12);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * float(i)) + 0.1f * float(i % 5);
  return v;
}
const std::vector<int> labels{0, 1, 2, 1, 0, 2, 2, 1};

// A scratch directory, removed at the end of the test.
struct scratch_dir {
  fs::path path = fs::temp_directory_path() / ("ctnn_checkpoint_" + std::to_string(::getpid()));
  scratch_dir() { fs::create_directories(path); }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

template <class Trainer>
void train_a_little(Trainer& t) {
  const auto xs = inputs();
  for (int k = 0; k < 5; ++k) t.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(labels));
}

std::vector<char> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const fs::path& p, const std::vector<char>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(b.data(), std::streamsize(b.size()));
}

template <class M>
std::vector<float> snapshot(M& m) {
  std::vector<float> v(m.parameters().begin(), m.parameters().end());
  v.insert(v.end(), m.state().begin(), m.state().end());
  return v;
}

}  // namespace ck

TEST_CASE("checkpoint round trip: identical parameters, state and predictions", "[checkpoint]") {
  ck::scratch_dir dir;
  ctnn::trainer<ck::net, ctnn::batch<ck::B>, ctnn::optim::adam> t({.lr = 1e-2f}, 1);
  ck::train_a_little(t);  // running statistics away from their start
  const fs::path file = dir.path / "model.npz";
  ctnn::save_checkpoint(file, t.model());
  CHECK(fs::exists(file));
  CHECK_FALSE(fs::exists(dir.path / "model.npz.tmp"));

  const auto arrays = ctnn::read_checkpoint(file);
  std::vector<std::string> names;
  for (const auto& a : arrays) names.push_back(a.name);
  CHECK(names == std::vector<std::string>{"bn1.beta", "bn1.gamma", "fc1.weight", "head.bias", "head.weight",
                                          "bn1.running_mean", "bn1.running_var"});
  CHECK(arrays[2].shape == std::vector<std::size_t>{12, 16});
  CHECK(arrays[2].dtype == "<f4");

  ctnn::model<ck::net, ck::B> fresh(99);
  CHECK(ck::snapshot(fresh) != ck::snapshot(t.model()));
  const auto loaded = ctnn::load_checkpoint(file, fresh);
  CHECK(loaded.size() == 7);
  CHECK(ck::snapshot(fresh) == ck::snapshot(t.model()));
  const auto xs = ck::inputs();
  const auto p = t.predict(ctnn::feed<"x">(xs));
  const std::vector<float> expected(p.begin(), p.end());
  const auto q = fresh.predict(ctnn::feed<"x">(xs));
  CHECK(std::vector<float>(q.begin(), q.end()) == expected);

  // A model built without drawing initial values: all zero until the load.
  ctnn::model<ck::net, ck::B> blank(ctnn::uninitialized);
  const auto zeros = ck::snapshot(blank);
  CHECK(std::all_of(zeros.begin(), zeros.end(), [](float v) { return v == 0.0f; }));
  ctnn::load_checkpoint(file, blank);
  CHECK(ck::snapshot(blank) == ck::snapshot(t.model()));
  const auto r = blank.predict(ctnn::feed<"x">(xs));
  CHECK(std::vector<float>(r.begin(), r.end()) == expected);

  // Saving again replaces the file.
  ck::train_a_little(t);
  ctnn::save_checkpoint(file, t.model());
  ctnn::load_checkpoint(file, fresh);
  CHECK(ck::snapshot(fresh) == ck::snapshot(t.model()));
}

TEST_CASE("checkpoint errors name the file and the tensor, and change nothing", "[checkpoint]") {
  ck::scratch_dir dir;
  ctnn::model<ck::net, ck::B> m(1);
  const fs::path file = dir.path / "net.npz";
  ctnn::save_checkpoint(file, m);
  ctnn::model<ck::net, ck::B> target(2);
  const auto before = ck::snapshot(target);

  SECTION("missing file") {
    const fs::path missing = dir.path / "missing.npz";
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(missing, target); }),
             Catch::Matchers::Contains("cannot open '" + missing.string() + "'"));
  }
  SECTION("not an npz") {
    const fs::path text = dir.path / "notes.npz";
    std::ofstream(text) << "these are not the weights you are looking for\n";
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(text, target); }),
             Catch::Matchers::Contains("'" + text.string() + "' is not an .npz file"));
  }
  SECTION("truncated") {
    auto bytes = ck::file_bytes(file);
    bytes.resize(bytes.size() / 2);
    const fs::path cut = dir.path / "cut.npz";
    ck::write_bytes(cut, bytes);
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(cut, target); }),
             Catch::Matchers::Contains("'" + cut.string() + "' is truncated"));
  }
  SECTION("a flipped bit") {
    auto bytes = ck::file_bytes(file);
    bytes[200] = char(bytes[200] ^ 0x10);  // inside the first member's data
    const fs::path bad = dir.path / "bad.npz";
    ck::write_bytes(bad, bytes);
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(bad, target); }),
             Catch::Matchers::Contains("CRC mismatch"));
  }
  SECTION("a tensor the checkpoint lacks") {
    ctnn::model<ck::wide_net, ck::B> wide(3);
    const fs::path other = dir.path / "wide.npz";
    ctnn::save_checkpoint(other, wide);
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(other, target); }),
             Catch::Matchers::Contains("'" + other.string() + "'") &&
                             Catch::Matchers::Contains("no tensor 'bn1.beta' in the checkpoint; it holds: fc1.weight"));
  }
  SECTION("a shape that differs") {
    ctnn::model<ck::wide_net, ck::B> wide(3);
    const auto wide_before = ck::snapshot(wide);
    // head matches ([16, 3]) and comes first, fc1 does not: nothing is loaded.
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(file, wide, {"head", "fc1"}); }),
             Catch::Matchers::Contains("'" + file.string() + "'") &&
                             Catch::Matchers::Contains("fc1.weight: checkpoint has [12, 16], network expects [12, 20]"));
    CHECK(ck::snapshot(wide) == wide_before);
    // The head alone loads.
    CHECK(ctnn::load_checkpoint(file, wide, {"head"}) == std::vector<std::string>{"head.bias", "head.weight"});
    CHECK(ck::snapshot(wide) != wide_before);
  }
  SECTION("a scalar type that differs") {
    ctnn::model<ck::net, ck::B, double> d(4);
    const fs::path doubles = dir.path / "double.npz";
    ctnn::save_checkpoint(doubles, d);
    CHECK(ctnn::read_checkpoint(doubles)[0].dtype == "<f8");
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_checkpoint(doubles, target); }),
             Catch::Matchers::Contains("bn1.beta: checkpoint has dtype <f8, network expects <f4"));
  }
  SECTION("a name the network does not have") {
    CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { ctnn::load_checkpoint(file, target, {"fc1", "conv9"}); }),
             Catch::Matchers::Contains("no tensor or layer named 'conv9'") &&
                             Catch::Matchers::Contains("it has: bn1.beta, bn1.gamma, fc1.weight"));
  }
  CHECK(ck::snapshot(target) == before);
}

TEST_CASE("transfer learning: load the shared layers, freeze them, train the new ones", "[checkpoint][freeze]") {
  ck::scratch_dir dir;
  ctnn::trainer<ck::net, ctnn::batch<ck::B>, ctnn::optim::adam> source({.lr = 1e-2f}, 1);
  ck::train_a_little(source);
  const fs::path file = dir.path / "pretrained.npz";
  ctnn::save_checkpoint(file, source.model());

  using transfer = ctnn::trainer<ck::transfer_net, ctnn::batch<ck::B>, ctnn::optim::adam>;
  transfer t({.lr = 1e-2f, .weight_decay = 1e-3f}, 5, {.l2 = 1e-3f});
  const std::vector<float> head_start(t.model().param_span("head5.weight").begin(),
                                      t.model().param_span("head5.weight").end());
  const auto loaded = ctnn::load_shared_parameters(file, t.model());
  CHECK(loaded == std::vector<std::string>{"bn1.beta", "bn1.gamma", "fc1.weight", "bn1.running_mean",
                                           "bn1.running_var"});
  const auto fc1 = t.model().param_span("fc1.weight");
  const auto src = source.model().param_span("fc1.weight");
  CHECK(std::equal(fc1.begin(), fc1.end(), src.begin(), src.end()));
  CHECK(std::equal(head_start.begin(), head_start.end(), t.model().param_span("head5.weight").begin()));

  t.freeze(std::vector<std::string>{"fc1", "bn1"});
  CHECK(t.frozen_parameters() == std::vector<std::string>{"bn1.beta", "bn1.gamma", "fc1.weight"});
  const std::vector<float> fc1_before(fc1.begin(), fc1.end());
  const auto gamma = t.model().param_span("bn1.gamma");
  const std::vector<float> gamma_before(gamma.begin(), gamma.end());
  const auto xs = ck::inputs();
  const std::vector<int> five{0, 4, 3, 1, 2, 4, 0, 3};
  float first = 0, last = 0;
  for (int k = 0; k < 40; ++k) {
    last = t.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(five));
    if (k == 0) first = last;
  }
  CHECK(last < first);
  CHECK(std::memcmp(fc1.data(), fc1_before.data(), fc1.size_bytes()) == 0);
  CHECK(std::memcmp(gamma.data(), gamma_before.data(), gamma.size_bytes()) == 0);
  CHECK_FALSE(std::equal(head_start.begin(), head_start.end(), t.model().param_span("head5.weight").begin()));
}

TEST_CASE("a save replaces a .tmp a killed save left behind, never writing through it", "[checkpoint]") {
  ck::scratch_dir dir;
  ctnn::model<ck::net, ck::B> m(1);
  const fs::path file = dir.path / "model.npz";
  const fs::path tmp = dir.path / "model.npz.tmp";

  SECTION("a half-written file, read-only") {
    ck::write_bytes(tmp, {'P', 'K', '\x03', '\x04', 0, 0});
    fs::permissions(tmp, fs::perms::owner_read);
  }
  SECTION("a link to another file") {
    ck::write_bytes(dir.path / "precious", {'k', 'e', 'e', 'p'});
    fs::create_symlink(dir.path / "precious", tmp);
    ctnn::save_checkpoint(file, m);
    CHECK(ck::file_bytes(dir.path / "precious") == std::vector<char>{'k', 'e', 'e', 'p'});
  }
  ctnn::save_checkpoint(file, m);
  CHECK_FALSE(fs::exists(fs::symlink_status(tmp)));
  CHECK(fs::is_regular_file(fs::symlink_status(file)));
  ctnn::model<ck::net, ck::B> back(2);
  CHECK(ctnn::load_checkpoint(file, back).size() == 7);
  CHECK(ck::snapshot(back) == ck::snapshot(m));
}

namespace {
void put16(std::string& s, unsigned v) { s += char(v & 0xff), s += char(v >> 8 & 0xff); }
void put32(std::string& s, unsigned long v) { put16(s, unsigned(v & 0xffff)), put16(s, unsigned(v >> 16)); }
}  // namespace

TEST_CASE("npz members compressed with deflate (numpy.savez_compressed) are read", "[checkpoint][npz]") {
  ck::scratch_dir dir;
  const std::vector<float> values{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  const std::string npy = xt::dump_npy(xt::adapt(values.data(), values.size(), xt::no_ownership(),
                                                 std::vector<std::size_t>{2, 3}));
  std::string packed(compressBound(uLong(npy.size())), '\0');
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(npy.data()));
  z.avail_in = uInt(npy.size());
  z.next_out = reinterpret_cast<Bytef*>(packed.data());
  z.avail_out = uInt(packed.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  packed.resize(z.total_out);
  deflateEnd(&z);
  const unsigned long crc = crc32(0L, reinterpret_cast<const Bytef*>(npy.data()), uInt(npy.size()));
  const std::string name = "w.npy";
  std::string zip;
  put32(zip, 0x04034b50), put16(zip, 20), put16(zip, 0), put16(zip, 8), put32(zip, 0), put32(zip, crc);
  put32(zip, packed.size()), put32(zip, npy.size()), put16(zip, unsigned(name.size())), put16(zip, 0);
  zip += name + packed;
  const std::size_t dir_at = zip.size();
  put32(zip, 0x02014b50), put16(zip, 20), put16(zip, 20), put16(zip, 0), put16(zip, 8), put32(zip, 0);
  put32(zip, crc), put32(zip, packed.size()), put32(zip, npy.size()), put16(zip, unsigned(name.size()));
  put32(zip, 0), put32(zip, 0), put32(zip, 0), put32(zip, 0);
  zip += name;
  const std::size_t dir_size = zip.size() - dir_at;
  put32(zip, 0x06054b50), put32(zip, 0), put16(zip, 1), put16(zip, 1), put32(zip, dir_size), put32(zip, dir_at);
  put16(zip, 0);
  const fs::path file = dir.path / "compressed.npz";
  ck::write_bytes(file, std::vector<char>(zip.begin(), zip.end()));

  const auto arrays = ctnn::io::read_npz(file);
  REQUIRE(arrays.size() == 1);
  CHECK(arrays[0].name == "w");
  CHECK(arrays[0].dtype == "<f4");
  CHECK(arrays[0].shape == std::vector<std::size_t>{2, 3});
  std::vector<float> back(6);
  REQUIRE(arrays[0].bytes.size() == 6 * sizeof(float));
  std::memcpy(back.data(), arrays[0].bytes.data(), arrays[0].bytes.size());
  CHECK(back == values);
}
