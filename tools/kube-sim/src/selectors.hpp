// Label selectors (`app=web,tier in (a,b),!canary`) and field selectors
// (`metadata.name=x,status.phase!=Running`), parsed once per request.
#pragma once

#include <string>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  LabelSelector() = default;
  // Parses the query-string syntax. Throws ApiError(400) when malformed.
  static LabelSelector Parse(const std::string& s);
  // From a metav1.LabelSelector object (matchLabels + matchExpressions).
  static LabelSelector FromObject(const json& sel);
  bool Matches(const json& labels) const;
  bool Empty() const { return reqs_.empty(); }
  std::string String() const;

 private:
  std::vector<Requirement> reqs_;
};

class FieldSelector {
 public:
  static FieldSelector Parse(const std::string& s);
  bool Matches(const json& obj) const;
  bool Empty() const { return reqs_.empty(); }
  // The value required for `field` by an `=` term, if any (used to narrow lists).
  const std::string* Exact(const std::string& field) const;

 private:
  struct Term {
    std::string field;
    bool equals;
    std::string value;
  };
  std::vector<Term> reqs_;
};

// Value of a dotted field path as field selectors compare it ("" when absent).
std::string FieldValue(const json& obj, const std::string& dotted);

}  // namespace kubesim
