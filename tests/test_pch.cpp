// The object that carries a precompiled header: the tests' and the compile-fail
// twins' (tests/CMakeLists.txt).
