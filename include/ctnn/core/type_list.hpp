/// @file type_list.hpp
/// A type list with constant-time membership and index lookup.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace ctnn::detail {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

template <class T>
struct type_tag {
  using type = T;
};

// Membership and lookup go through base classes rather than recursion or
// pairwise comparison: the compiler answers them without instantiating
// anything per element, which keeps a 400-node graph cheap.
template <class... Ts>
struct inherit_all : type_tag<Ts>... {};

template <class List, class T>
struct contains;
template <class... Ts, class T>
struct contains<type_list<Ts...>, T> : std::is_base_of<type_tag<T>, inherit_all<Ts...>> {};
template <class List, class T>
inline constexpr bool contains_v = contains<List, T>::value;

template <std::size_t I, class T>
struct indexed {};
template <class Seq, class... Ts>
struct index_table;
template <std::size_t... Is, class... Ts>
struct index_table<std::index_sequence<Is...>, Ts...> : indexed<Is, Ts>... {};

template <class T, std::size_t I>
constexpr std::size_t index_in(const indexed<I, T>*) {
  return I;
}
template <std::size_t I, class T>
constexpr type_tag<T> type_at(const indexed<I, T>*) {
  return {};
}

template <class List>
struct list_index;
template <class... Ts>
struct list_index<type_list<Ts...>> {
  using table = index_table<std::index_sequence_for<Ts...>, Ts...>;
  template <class T>
  static constexpr std::size_t of = index_in<T>(static_cast<const table*>(nullptr));
  template <std::size_t I>
  using at = typename decltype(type_at<I>(static_cast<const table*>(nullptr)))::type;
};

template <class List, class T>
struct push_back;
template <class... Ts, class T>
struct push_back<type_list<Ts...>, T> {
  using type = type_list<Ts..., T>;
};

template <class List>
struct head;
template <class T, class... Ts>
struct head<type_list<T, Ts...>> {
  using type = T;
};
template <class List>
using head_t = typename head<List>::type;

}  // namespace ctnn::detail
