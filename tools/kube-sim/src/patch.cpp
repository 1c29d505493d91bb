#include "patch.hpp"

#include <algorithm>

#include "status.hpp"

namespace kubesim {

std::vector<std::string> ListMapKeys(const std::string& field, const json& sample) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets" ||
      field == "resourceClaims")
    return {"name"};
  if (field == "ports") {
    if (sample.is_object() && sample.contains("containerPort")) return {"containerPort"};
    return {"port"};
  }
  if (field == "volumeMounts") return {"mountPath"};
  if (field == "volumeDevices") return {"devicePath"};
  if (field == "ownerReferences") return {"uid"};
  if (field == "conditions") return {"type"};
  if (field == "hostAliases") return {"ip"};
  if (field == "topologySpreadConstraints") return {"topologyKey"};
  return {};
}

bool IsSetList(const std::string& field) {
  return field == "finalizers";
}

json ApplyMergePatch(const json& target, const json& patch) {
  json out = target;
  out.merge_patch(patch);
  return out;
}

json ApplyJsonPatch(const json& target, const json& patch) {
  if (!patch.is_array()) throw BadRequest("json patch must be an array of operations");
  try {
    return target.patch(patch);
  } catch (const json::exception& e) {
    throw ApiError(422, "Invalid",
                   std::string("the server rejected our request due to an error "
                               "in our request: ") +
                       e.what());
  }
}

namespace {

// Removes `$`-directives so they never reach a stored object.
json StripDirectives(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items()) {
      if (!k.empty() && k[0] == '$') continue;
      out[k] = StripDirectives(x);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) {
      if (x.is_object() && x.contains("$patch") && x.size() == 1) continue;
      out.push_back(StripDirectives(x));
    }
    return out;
  }
  return v;
}

bool KeysMatch(const json& a, const json& b, const std::vector<std::string>& keys) {
  if (!a.is_object() || !b.is_object()) return false;
  for (const auto& k : keys) {
    auto ia = a.find(k), ib = b.find(k);
    if (ia == a.end() || ib == b.end() || *ia != *ib) return false;
  }
  return true;
}

json MergeValue(const json& original, const json& patch, bool* deleted);

json MergeList(const std::string& field, const json& original, const json& patch) {
  // A `{"$patch": "replace"}` element means: the list is exactly the other elements.
  for (const auto& item : patch) {
    if (item.is_object() && item.value("$patch", "") == "replace") return StripDirectives(patch);
  }
  json sample =
      patch.empty() ? (original.is_array() && !original.empty() ? original[0] : json()) : patch[0];
  auto keys = ListMapKeys(field, sample);
  if (IsSetList(field)) {
    json out = original.is_array() ? original : json::array();
    for (const auto& v : patch) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
  }
  if (keys.empty()) return StripDirectives(patch);
  json out = original.is_array() ? original : json::array();
  for (const auto& item : patch) {
    if (!item.is_object()) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const json& o) { return KeysMatch(o, item, keys); });
    if (item.value("$patch", "") == "delete") {
      if (it != out.end()) out.erase(it);
      continue;
    }
    if (it != out.end()) {
      bool del = false;
      json merged = MergeValue(*it, item, &del);
      if (del)
        out.erase(it);
      else
        *it = merged;
    } else {
      out.push_back(StripDirectives(item));
    }
  }
  return out;
}

json MergeValue(const json& original, const json& patch, bool* deleted) {
  *deleted = false;
  if (!patch.is_object()) return StripDirectives(patch);
  std::string directive = patch.value("$patch", "");
  if (directive == "replace") return StripDirectives(patch);
  if (directive == "delete") {
    *deleted = true;
    return nullptr;
  }
  json out = original.is_object() ? original : json::object();
  for (const auto& [k, v] : patch.items()) {
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0) continue;
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(std::string("$deleteFromPrimitiveList/").size());
      if (out.contains(field) && out[field].is_array() && v.is_array()) {
        json kept = json::array();
        for (const auto& x : out[field]) {
          if (std::find(v.begin(), v.end(), x) == v.end()) kept.push_back(x);
        }
        out[field] = kept;
      }
      continue;
    }
    if (v.is_null()) {
      out.erase(k);
    } else if (v.is_object()) {
      bool del = false;
      json merged = MergeValue(out.contains(k) ? out[k] : json(), v, &del);
      if (del)
        out.erase(k);
      else
        out[k] = merged;
    } else if (v.is_array()) {
      out[k] = MergeList(k, out.contains(k) ? out[k] : json(), v);
    } else {
      out[k] = v;
    }
  }
  if (auto it = patch.find("$retainKeys"); it != patch.end() && it->is_array()) {
    json kept = json::object();
    for (const auto& key : *it) {
      if (key.is_string() && out.contains(key.get<std::string>()))
        kept[key.get<std::string>()] = out[key.get<std::string>()];
    }
    out = kept;
  }
  return out;
}

}  // namespace

json ApplyStrategicMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) throw BadRequest("strategic merge patch must be a JSON object");
  bool deleted = false;
  json out = MergeValue(target, patch, &deleted);
  if (deleted) throw BadRequest("a strategic merge patch cannot delete the whole object");
  return out;
}

}  // namespace kubesim
