// PNG files written and read back through libpng, pixel for pixel; the
// pictures built from floats (grid, heat map, filter mosaic) against values
// worked out by hand; and the errors for an unwritable path or a wrong size.
#include <catch2/catch.hpp>

#include <ctnn/io/png.hpp>

#include <cstdint>
#include <fstream>
#include <vector>

#include "../../support/temp_dir.hpp"

namespace {

using Catch::Matchers::Contains;
using ctnn::io::data_error;
using ctnn::io::picture;

struct temp_dir : ctnn_test::temp_dir {
  temp_dir() : ctnn_test::temp_dir("ctnn_png_test_") {}
};

}  // namespace

TEST_CASE("a grayscale PNG reads back pixel for pixel", "[io][png]") {
  temp_dir dir;
  picture p(3, 5, 1);
  for (std::size_t i = 0; i < p.pixels.size(); ++i) p.pixels[i] = static_cast<std::uint8_t>(i * 17);
  ctnn::io::write_png(dir.path / "gray.png", p);
  const picture q = ctnn::io::read_png(dir.path / "gray.png");
  CHECK(q.height == 3);
  CHECK(q.width == 5);
  CHECK(q.channels == 1);
  CHECK(q.pixels == p.pixels);
  CHECK(q.at(2, 4)[0] == 238);
}

TEST_CASE("an RGB PNG reads back pixel for pixel", "[io][png]") {
  temp_dir dir;
  picture p(4, 2, 3);
  for (std::size_t i = 0; i < p.pixels.size(); ++i) p.pixels[i] = static_cast<std::uint8_t>(255 - i * 10);
  ctnn::io::write_png(dir.path / "rgb.png", p);
  const picture q = ctnn::io::read_png(dir.path / "rgb.png");
  CHECK(q.height == 4);
  CHECK(q.width == 2);
  CHECK(q.channels == 3);
  CHECK(q.pixels == p.pixels);
  // Row 1, column 1, green: byte (1·2 + 1)·3 + 1 = 10.
  CHECK(q.at(1, 1)[1] == 155);
}

TEST_CASE("an unwritable path or a file that is no PNG is an error naming the file", "[io][png]") {
  temp_dir dir;
  const picture p(2, 2, 1);
  CHECK_THROWS_AS(ctnn::io::write_png(dir.path / "no_such_dir" / "x.png", p), data_error);
  CHECK_THROWS_WITH(ctnn::io::write_png(dir.path / "no_such_dir" / "x.png", p),
                    Contains("cannot create '") && Contains("no_such_dir/x.png': No such file or directory"));
  { std::ofstream(dir.path / "text.png") << "not a picture"; }
  CHECK_THROWS_WITH(ctnn::io::read_png(dir.path / "text.png"), Contains("text.png' is not a readable PNG"));
  picture bad(2, 2, 1);
  bad.pixels.pop_back();
  CHECK_THROWS_WITH(ctnn::io::write_png(dir.path / "bad.png", bad),
                    Contains("bad.png': the picture is 2 × 2 × 1 but holds 3 bytes"));
}

TEST_CASE("image_grid lays images out with a 1-pixel gap and scales them", "[io][picture]") {
  // Three 2×2 images, values 0..11: automatic range 0..11.
  std::vector<float> images(12);
  for (std::size_t i = 0; i < 12; ++i) images[i] = static_cast<float>(i);
  ctnn::io::grid_options two_columns;
  two_columns.cols = 2;
  const picture g = ctnn::io::image_grid(images, 3, 1, 2, 2, two_columns);
  REQUIRE(g.height == 5);  // two rows of 2, one gap
  REQUIRE(g.width == 5);
  CHECK(g.at(0, 0)[0] == 0);
  CHECK(g.at(1, 1)[0] == 70);   // 3/11·255 = 69.5
  CHECK(g.at(0, 2)[0] == 255);  // the gap
  CHECK(g.at(0, 3)[0] == 93);   // image 1's first value, 4/11·255 = 92.7
  CHECK(g.at(4, 4)[0] == 255);  // no fourth image: background
  CHECK(g.at(4, 1)[0] == 255);  // image 2's last value, 11
  CHECK(g.at(3, 0)[0] == 185);  // image 2's first value, 8/11·255 = 185.45

  // A given range clamps.
  ctnn::io::grid_options fixed_range;
  fixed_range.cols = 3;
  fixed_range.range = ctnn::io::value_range{2, 4};
  const picture h = ctnn::io::image_grid(images, 3, 1, 2, 2, fixed_range);
  CHECK(h.width == 8);
  CHECK(h.at(0, 0)[0] == 0);
  CHECK(h.at(1, 0)[0] == 0);    // 2, the low end
  CHECK(h.at(1, 1)[0] == 128);  // 3, the middle: 127.5 rounds up
  CHECK(h.at(0, 3)[0] == 255);  // 4, the high end
  CHECK(h.at(1, 7)[0] == 255);  // 11, clamped
  CHECK_THROWS_WITH(ctnn::io::image_grid(images, 4, 1, 2, 2),
                    Contains("image_grid: 12 values given for 4 images [1, 2, 2] (16 values)"));
}

TEST_CASE("heat_map blends a colour map over the image", "[io][picture]") {
  const std::vector<float> image{0.0f, 1.0f};
  // Sequential, range 0..2 (the largest |heat|): heat 1 sits halfway between the
  // stops red (0.85, 0.1, 0) and yellow (1, 0.85, 0): (236, 121, 0); half of
  // that over black.
  ctnn::io::heat_options half;
  half.opacity = 0.5f;
  const picture h = ctnn::io::heat_map(image, std::vector<float>{1.0f, 2.0f}, 1, 2, half);
  REQUIRE(h.channels == 3);
  CHECK(h.at(0, 0)[0] == 118);
  CHECK(h.at(0, 0)[1] == 61);
  CHECK(h.at(0, 0)[2] == 0);
  CHECK(h.at(0, 1)[0] == 255);  // white heat over a white pixel
  CHECK(h.at(0, 1)[2] == 255);
  // Diverging: zero is the middle stop, 0.97 white; opacity 1 hides the image.
  ctnn::io::heat_options opaque;
  opaque.map = ctnn::io::colour_map::diverging;
  opaque.opacity = 1.0f;
  const picture d = ctnn::io::heat_map(image, std::vector<float>{0.0f, 1.0f}, 1, 2, opaque);
  CHECK(d.at(0, 0)[0] == 247);
  CHECK(d.at(0, 0)[2] == 247);
  CHECK(d.at(0, 1)[0] == 181);  // the red end, 0.71·255
  CHECK_THROWS_WITH(ctnn::io::heat_map(image, std::vector<float>{1.0f}, 1, 2),
                    Contains("heat_map (the heat): 1 values given for a heat map [1, 2] (2 values)"));
}

TEST_CASE("filter_mosaic scales each filter on its own", "[io][picture]") {
  // Two filters [1, 1, 2]: the first spans black to white; the second is
  // constant and shows mid-grey.
  const std::vector<float> w{1.0f, 3.0f, -5.0f, -5.0f};
  const picture m = ctnn::io::filter_mosaic(w, 2, 1, 1, 2);
  REQUIRE(m.height == 1);
  REQUIRE(m.width == 5);
  const std::vector<std::uint8_t> expected{0, 255, 255, 128, 128};
  CHECK(m.pixels == expected);
}

TEST_CASE("enlarge and stack", "[io][picture]") {
  picture a(1, 2, 1);
  a.pixels = {10, 20};
  const picture big = ctnn::io::enlarge(a, 2);
  CHECK(big.pixels == std::vector<std::uint8_t>{10, 10, 20, 20, 10, 10, 20, 20});
  picture b(1, 1, 3);
  b.pixels = {1, 2, 3};
  const std::vector<picture> parts{a, b};
  const picture s = ctnn::io::stack(parts, false, 1, 0);
  REQUIRE(s.width == 4);
  REQUIRE(s.channels == 3);
  CHECK(s.at(0, 1)[2] == 20);  // gray spread over RGB
  CHECK(s.at(0, 2)[0] == 0);   // the gap
  CHECK(s.at(0, 3)[1] == 2);
}
