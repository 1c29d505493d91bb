#include "managed_fields.hpp"

#include <algorithm>
#include <map>

#include "patch.hpp"

namespace kubesim {
namespace {

bool IsMapField(const std::string& name) {
  static const char* kMaps[] = {"labels",     "annotations",  "data",        "binaryData",
                                "stringData", "nodeSelector", "matchLabels", "limits",
                                "requests",   "capacity",     "allocatable"};
  for (const char* m : kMaps) {
    if (name == m) return true;
  }
  return false;
}

std::string ElementKey(const json& item, const std::vector<std::string>& keys) {
  json k = json::object();
  for (const auto& key : keys) {
    if (item.contains(key)) k[key] = item[key];
  }
  return "k:" + k.dump();
}

json FieldSetOfValue(const json& v, const std::string& name);

json FieldSetOfObject(const json& obj) {
  json node = json::object();
  for (const auto& [k, v] : obj.items()) {
    node["f:" + k] = FieldSetOfValue(v, k);
  }
  return node;
}

json FieldSetOfValue(const json& v, const std::string& name) {
  if (v.is_object()) {
    if (v.empty()) return json::object();
    json node = FieldSetOfObject(v);
    if (IsMapField(name)) node["."] = json::object();
    return node;
  }
  if (v.is_array()) {
    if (IsSetList(name)) {
      json node = json::object();
      for (const auto& x : v)
        node["v:" + x.dump()] = json::object();
      return node;
    }
    auto keys = ListMapKeys(name, v.empty() ? json() : v[0]);
    if (keys.empty() || v.empty()) return json::object();  // atomic list: owned as a whole
    json node = json::object();
    for (const auto& item : v) {
      if (!item.is_object()) continue;
      json el = FieldSetOfObject(item);
      el["."] = json::object();
      node[ElementKey(item, keys)] = el;
    }
    return node;
  }
  return json::object();
}

void CollectMembers(const json& node, FieldPath& prefix, std::vector<FieldPath>& out) {
  for (const auto& [k, child] : node.items()) {
    if (k == ".") continue;
    prefix.push_back(k);
    if (child.empty() || child.contains(".")) out.push_back(prefix);
    if (!child.empty()) CollectMembers(child, prefix, out);
    prefix.pop_back();
  }
}

json* FindElement(json& arr, const std::string& seg) {
  if (!arr.is_array()) return nullptr;
  if (seg.rfind("k:", 0) == 0) {
    json keys = json::parse(seg.substr(2), nullptr, false);
    if (!keys.is_object()) return nullptr;
    for (auto& item : arr) {
      if (!item.is_object()) continue;
      bool all = true;
      for (const auto& [k, v] : keys.items()) {
        if (!item.contains(k) || item[k] != v) {
          all = false;
          break;
        }
      }
      if (all) return &item;
    }
  } else if (seg.rfind("v:", 0) == 0) {
    json val = json::parse(seg.substr(2), nullptr, false);
    for (auto& item : arr) {
      if (item == val) return &item;
    }
  }
  return nullptr;
}

// Removes the field at `p` from `obj` (list elements by key). No-op when absent.
void RemoveAt(json& obj, const FieldPath& p, size_t i = 0) {
  if (i >= p.size()) return;
  const std::string& seg = p[i];
  bool last = i + 1 == p.size();
  if (seg.rfind("f:", 0) == 0) {
    if (!obj.is_object()) return;
    std::string name = seg.substr(2);
    auto it = obj.find(name);
    if (it == obj.end()) return;
    if (last)
      obj.erase(it);
    else
      RemoveAt(*it, p, i + 1);
    return;
  }
  if (!obj.is_array()) return;
  json* el = FindElement(obj, seg);
  if (!el) return;
  if (last) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (&*it == el) {
        obj.erase(it);
        break;
      }
    }
  } else {
    RemoveAt(*el, p, i + 1);
  }
}

// Merges an applied configuration into the live object: objects field by field, associative
// lists element by element, everything else replaced.
void MergeApplied(json& dst, const json& src, const std::string& name) {
  if (src.is_object() && dst.is_object()) {
    for (const auto& [k, v] : src.items()) {
      if (dst.contains(k))
        MergeApplied(dst[k], v, k);
      else
        dst[k] = v;
    }
    return;
  }
  if (src.is_array() && dst.is_array()) {
    if (IsSetList(name)) {
      for (const auto& v : src) {
        if (std::find(dst.begin(), dst.end(), v) == dst.end()) dst.push_back(v);
      }
      return;
    }
    auto keys = ListMapKeys(name, src.empty() ? json() : src[0]);
    if (!keys.empty()) {
      for (const auto& item : src) {
        json* existing = item.is_object() ? FindElement(dst, ElementKey(item, keys)) : nullptr;
        if (existing)
          MergeApplied(*existing, item, "");
        else
          dst.push_back(item);
      }
      return;
    }
  }
  dst = src;
}

json StripForFieldSet(const json& obj) {
  json o = obj;
  o.erase("apiVersion");
  o.erase("kind");
  o.erase("status");
  if (o.contains("metadata") && o["metadata"].is_object()) {
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "generation",
                          "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generateName"}) {
      o["metadata"].erase(k);
    }
    if (o["metadata"].empty()) o.erase("metadata");
  }
  return o;
}

json EntriesOf(const json& obj) {
  const json& mf = Path(obj, {"metadata", "managedFields"});
  return mf.is_array() ? mf : json::array();
}

json MakeEntry(const std::string& manager, const std::string& op, const std::string& api_version,
               const std::string& now, const json& set) {
  return {{"manager", manager}, {"operation", op},          {"apiVersion", api_version},
          {"time", now},        {"fieldsType", "FieldsV1"}, {"fieldsV1", set}};
}

}  // namespace

json FieldSetOf(const json& obj) {
  if (!obj.is_object()) return json::object();
  return FieldSetOfObject(StripForFieldSet(obj));
}

std::vector<FieldPath> Members(const json& set) {
  std::vector<FieldPath> out;
  FieldPath prefix;
  if (set.is_object()) CollectMembers(set, prefix, out);
  return out;
}

bool SetContains(const json& set, const FieldPath& p) {
  const json* node = &set;
  for (const auto& seg : p) {
    if (!node->is_object()) return false;
    auto it = node->find(seg);
    if (it == node->end()) return false;
    node = &*it;
  }
  return node->empty() || node->contains(".");
}

void SetInsert(json& set, const FieldPath& p) {
  json* node = &set;
  bool created = true;  // the root is never a member itself
  for (const auto& seg : p) {
    if (!node->contains(seg)) {
      // Descending below an existing leaf member: keep its membership with ".".
      if (!created && node->empty()) (*node)["."] = json::object();
      (*node)[seg] = json::object();
      created = true;
    } else {
      created = false;
    }
    node = &(*node)[seg];
  }
  if (!created && !node->empty()) (*node)["."] = json::object();
}

void SetRemove(json& set, const FieldPath& p) {
  if (p.empty()) return;
  std::vector<json*> chain{&set};
  for (const auto& seg : p) {
    json* n = chain.back();
    if (!n->is_object() || !n->contains(seg)) return;
    chain.push_back(&(*n)[seg]);
  }
  json* target = chain.back();
  if (!target->empty() && !(target->size() == 1 && target->contains("."))) {
    target->erase(".");
    return;
  }
  chain[chain.size() - 2]->erase(p.back());
  // Parents emptied by the removal were never members themselves: prune them.
  for (size_t i = chain.size() - 2; i > 0; --i) {
    if (!chain[i]->empty()) break;
    chain[i - 1]->erase(p[i - 1]);
  }
}

const json* ValueAt(const json& obj, const FieldPath& p) {
  const json* cur = &obj;
  for (const auto& seg : p) {
    if (seg.rfind("f:", 0) == 0) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(seg.substr(2));
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else {
      json* el = FindElement(const_cast<json&>(*cur), seg);
      if (!el) return nullptr;
      cur = el;
    }
  }
  return cur;
}

std::string PathString(const FieldPath& p) {
  std::string out;
  for (const auto& seg : p) {
    if (seg.rfind("f:", 0) == 0) {
      out += "." + seg.substr(2);
    } else if (seg.rfind("k:", 0) == 0) {
      json keys = json::parse(seg.substr(2), nullptr, false);
      out += "[";
      bool first = true;
      if (keys.is_object()) {
        for (const auto& [k, v] : keys.items()) {
          if (!first) out += ",";
          first = false;
          out += k + "=" + v.dump();
        }
      }
      out += "]";
    } else if (seg.rfind("v:", 0) == 0) {
      out += "[=" + seg.substr(2) + "]";
    }
  }
  return out;
}

ApplyOutcome ServerSideApply(const json& current, const json& applied, const std::string& manager,
                             bool force, const std::string& api_version, const std::string& now) {
  ApplyOutcome out;
  json applied_set = FieldSetOf(applied);
  std::vector<FieldPath> applied_members = Members(applied_set);
  json entries = current.is_null() ? json::array() : EntriesOf(current);

  auto is_mine = [&](const json& e) {
    return e.value("manager", "") == manager && e.value("operation", "") == "Apply";
  };

  // Conflicts: another manager owns a field we set, and we set it to a different value.
  std::map<size_t, std::vector<FieldPath>> stolen;
  if (!current.is_null()) {
    for (size_t i = 0; i < entries.size(); ++i) {
      const json& e = entries[i];
      if (is_mine(e)) continue;
      const json& set = e.contains("fieldsV1") ? e["fieldsV1"] : json::object();
      for (const auto& p : applied_members) {
        if (!SetContains(set, p)) continue;
        const json* mine = ValueAt(applied, p);
        const json* live = ValueAt(current, p);
        // Only values can conflict; list elements and maps ("." members) are shared freely.
        bool leaf = mine && !mine->is_object() &&
                    !(mine->is_array() && !ListMapKeys(p.back().substr(2), json()).empty());
        if (!leaf) continue;
        if (live && *live == *mine) continue;
        // Same wording as the API server's printManager: Update managers add version and time.
        std::string who = "\"" + e.value("manager", "") + "\"";
        if (e.value("operation", "") == "Update") {
          who += " using " + e.value("apiVersion", api_version);
          if (e.contains("time")) who += " at " + e.value("time", "");
        }
        out.conflicts.push_back({who, PathString(p)});
        stolen[i].push_back(p);
      }
    }
  }
  if (!out.conflicts.empty() && !force) return out;
  if (force) out.conflicts.clear();

  for (auto& [i, paths] : stolen) {
    for (const auto& p : paths)
      SetRemove(entries[i]["fieldsV1"], p);
  }

  json result;
  json previous_set = json::object();
  for (const auto& e : entries) {
    if (is_mine(e) && e.contains("fieldsV1")) previous_set = e["fieldsV1"];
  }
  if (current.is_null()) {
    result = applied;
  } else {
    result = current;
    // Fields this manager applied before but dropped now are removed unless someone else owns them.
    std::vector<FieldPath> dropped;
    for (const auto& p : Members(previous_set)) {
      if (SetContains(applied_set, p)) continue;
      bool owned_elsewhere = false;
      for (const auto& e : entries) {
        if (!is_mine(e) && e.contains("fieldsV1") && SetContains(e["fieldsV1"], p)) {
          owned_elsewhere = true;
          break;
        }
      }
      if (!owned_elsewhere) dropped.push_back(p);
    }
    // Deepest first so removing an element never invalidates a later path.
    std::sort(dropped.begin(), dropped.end(),
              [](const FieldPath& a, const FieldPath& b) { return a.size() > b.size(); });
    for (const auto& p : dropped)
      RemoveAt(result, p);
    json to_merge = applied;
    to_merge.erase("status");
    if (to_merge.contains("metadata")) {
      for (const char* k :
           {"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"}) {
        to_merge["metadata"].erase(k);
      }
    }
    MergeApplied(result, to_merge, "");
  }

  json new_entries = json::array();
  bool placed = false;
  for (auto& e : entries) {
    if (is_mine(e)) {
      if (!placed)
        new_entries.push_back(MakeEntry(manager, "Apply", api_version, now, applied_set));
      placed = true;
      continue;
    }
    if (e.contains("fieldsV1") && Members(e["fieldsV1"]).empty()) continue;
    new_entries.push_back(e);
  }
  if (!placed) new_entries.push_back(MakeEntry(manager, "Apply", api_version, now, applied_set));
  result["metadata"]["managedFields"] = new_entries;
  out.object = std::move(result);
  return out;
}

std::string ConflictMessage(const std::vector<FieldConflict>& conflicts) {
  if (conflicts.size() == 1) {
    return "Apply failed with 1 conflict: conflict with " + conflicts[0].manager + ": " +
           conflicts[0].field;
  }
  std::map<std::string, std::vector<std::string>> by_manager;
  for (const auto& c : conflicts)
    by_manager[c.manager].push_back(c.field);
  std::string out = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
  bool first = true;
  for (const auto& [m, fields] : by_manager) {
    if (!first) out += "\n";
    first = false;
    if (fields.size() == 1) {
      out += "conflict with " + m + ": " + fields[0];
    } else {
      out += "conflicts with " + m + ":";
      for (const auto& f : fields)
        out += "\n- " + f;
    }
  }
  return out;
}

json RecordUpdate(const json& old_obj, const json& new_obj, const std::string& manager,
                  const std::string& api_version, const std::string& now) {
  json entries = old_obj.is_null() ? EntriesOf(new_obj) : EntriesOf(old_obj);
  json new_set = FieldSetOf(new_obj);
  std::vector<FieldPath> changed;
  for (const auto& p : Members(new_set)) {
    const json* nv = ValueAt(new_obj, p);
    const json* ov = old_obj.is_null() ? nullptr : ValueAt(old_obj, p);
    if (!ov || (nv && *nv != *ov && !nv->is_object())) changed.push_back(p);
  }
  json result = json::array();
  bool placed = false;
  for (auto e : entries) {
    bool mine = e.value("manager", "") == manager && e.value("operation", "") == "Update" &&
                !e.contains("subresource");
    json& set = e["fieldsV1"];
    if (!set.is_object()) set = json::object();
    // Fields that no longer exist are owned by nobody.
    for (const auto& p : Members(set)) {
      if (!ValueAt(new_obj, p)) SetRemove(set, p);
    }
    if (mine) {
      for (const auto& p : changed)
        SetInsert(set, p);
      if (!changed.empty()) e["time"] = now;
      placed = true;
    } else {
      for (const auto& p : changed)
        SetRemove(set, p);
    }
    if (Members(set).empty()) continue;
    result.push_back(e);
  }
  if (!placed && !changed.empty()) {
    json set = json::object();
    for (const auto& p : changed)
      SetInsert(set, p);
    result.push_back(MakeEntry(manager, "Update", api_version, now, set));
  }
  return result;
}

}  // namespace kubesim
