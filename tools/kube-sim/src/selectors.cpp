#include "selectors.hpp"

#include <cctype>

#include "status.hpp"

namespace kubesim {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTerms(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!Trim(cur).empty() || !out.empty()) out.push_back(Trim(cur));
  return out;
}

bool ValidKey(const std::string& k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/'))
      return false;
  }
  return true;
}

}  // namespace

LabelSelector LabelSelector::Parse(const std::string& input) {
  LabelSelector sel;
  std::string s = Trim(input);
  if (s.empty()) return sel;
  for (const std::string& term : SplitTerms(s)) {
    if (term.empty())
      throw BadRequest("unable to parse requirement: found '', expected: identifier");
    Requirement r;
    size_t pos;
    if (term[0] == '!') {
      r.key = Trim(term.substr(1));
      r.op = Requirement::Op::kDoesNotExist;
    } else if ((pos = term.find(" notin ")) != std::string::npos ||
               (pos = term.find(" in ")) != std::string::npos) {
      bool notin = term.compare(pos, 7, " notin ") == 0;
      r.key = Trim(term.substr(0, pos));
      r.op = notin ? Requirement::Op::kNotIn : Requirement::Op::kIn;
      std::string rest = Trim(term.substr(pos + (notin ? 7 : 4)));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')')
        throw BadRequest("unable to parse requirement: found '" + rest + "', expected: '('");
      std::string inner = rest.substr(1, rest.size() - 2);
      size_t start = 0;
      while (start <= inner.size()) {
        size_t comma = inner.find(',', start);
        if (comma == std::string::npos) comma = inner.size();
        std::string v = Trim(inner.substr(start, comma - start));
        if (!v.empty()) r.values.push_back(v);
        start = comma + 1;
      }
    } else if ((pos = term.find("!=")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kNotEquals;
      r.values.push_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find("==")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kEquals;
      r.values.push_back(Trim(term.substr(pos + 2)));
    } else if ((pos = term.find('=')) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Requirement::Op::kEquals;
      r.values.push_back(Trim(term.substr(pos + 1)));
    } else {
      r.key = term;
      r.op = Requirement::Op::kExists;
    }
    if (!ValidKey(r.key))
      throw BadRequest("unable to parse requirement: invalid label key \"" + r.key + "\"");
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

LabelSelector LabelSelector::FromObject(const json& obj) {
  LabelSelector sel;
  if (!obj.is_object()) return sel;
  if (auto it = obj.find("matchLabels"); it != obj.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      sel.reqs_.push_back(
          {k, Requirement::Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}});
    }
  }
  if (auto it = obj.find("matchExpressions"); it != obj.end() && it->is_array()) {
    for (const auto& e : *it) {
      Requirement r;
      r.key = e.value("key", "");
      std::string op = e.value("operator", "");
      if (op == "In")
        r.op = Requirement::Op::kIn;
      else if (op == "NotIn")
        r.op = Requirement::Op::kNotIn;
      else if (op == "Exists")
        r.op = Requirement::Op::kExists;
      else
        r.op = Requirement::Op::kDoesNotExist;
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"])
          r.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      }
      sel.reqs_.push_back(std::move(r));
    }
  }
  return sel;
}

bool LabelSelector::Matches(const json& labels) const {
  for (const auto& r : reqs_) {
    const json* v = nullptr;
    if (labels.is_object()) {
      auto it = labels.find(r.key);
      if (it != labels.end() && it->is_string()) v = &*it;
    }
    auto in_values = [&] {
      if (!v) return false;
      for (const auto& x : r.values) {
        if (v->get_ref<const std::string&>() == x) return true;
      }
      return false;
    };
    switch (r.op) {
      case Requirement::Op::kEquals:
      case Requirement::Op::kIn:
        if (!in_values()) return false;
        break;
      case Requirement::Op::kNotEquals:
      case Requirement::Op::kNotIn:
        if (in_values()) return false;
        break;
      case Requirement::Op::kExists:
        if (!v) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (v) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::String() const {
  std::string out;
  for (const auto& r : reqs_) {
    if (!out.empty()) out += ",";
    switch (r.op) {
      case Requirement::Op::kEquals:
        out += r.key + "=" + r.values[0];
        break;
      case Requirement::Op::kNotEquals:
        out += r.key + "!=" + r.values[0];
        break;
      case Requirement::Op::kIn:
      case Requirement::Op::kNotIn: {
        out += r.key + (r.op == Requirement::Op::kIn ? " in (" : " notin (");
        for (size_t i = 0; i < r.values.size(); ++i)
          out += (i ? "," : "") + r.values[i];
        out += ")";
        break;
      }
      case Requirement::Op::kExists:
        out += r.key;
        break;
      case Requirement::Op::kDoesNotExist:
        out += "!" + r.key;
        break;
    }
  }
  return out;
}

FieldSelector FieldSelector::Parse(const std::string& input) {
  FieldSelector sel;
  std::string s = Trim(input);
  if (s.empty()) return sel;
  for (const std::string& term : SplitTerms(s)) {
    Term t;
    size_t pos;
    if ((pos = term.find("!=")) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.equals = false;
      t.value = Trim(term.substr(pos + 2));
    } else if ((pos = term.find("==")) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.equals = true;
      t.value = Trim(term.substr(pos + 2));
    } else if ((pos = term.find('=')) != std::string::npos) {
      t.field = Trim(term.substr(0, pos));
      t.equals = true;
      t.value = Trim(term.substr(pos + 1));
    } else {
      throw BadRequest("invalid selector: '" + input + "'; can't understand '" + term + "'");
    }
    if (t.field.empty()) throw BadRequest("invalid selector: '" + input + "'");
    sel.reqs_.push_back(std::move(t));
  }
  return sel;
}

std::string FieldValue(const json& obj, const std::string& dotted) {
  const json* cur = &obj;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    if (!cur->is_object()) return "";
    auto it = cur->find(dotted.substr(start, dot - start));
    if (it == cur->end()) return "";
    cur = &*it;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_boolean()) return cur->get<bool>() ? "true" : "false";
  if (cur->is_null()) return "";
  return cur->dump();
}

bool FieldSelector::Matches(const json& obj) const {
  for (const auto& t : reqs_) {
    std::string v = FieldValue(obj, t.field);
    if (t.field == "spec.unschedulable" && v.empty()) v = "false";
    if ((v == t.value) != t.equals) return false;
  }
  return true;
}

const std::string* FieldSelector::Exact(const std::string& field) const {
  for (const auto& t : reqs_) {
    if (t.equals && t.field == field) return &t.value;
  }
  return nullptr;
}

}  // namespace kubesim
