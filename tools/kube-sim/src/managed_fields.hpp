// Server-side apply: field sets in the `FieldsV1` format, ownership per field manager,
// conflict detection, and the merge of an applied configuration into the live object.
//
// A field set is kept as the FieldsV1 JSON tree itself ("f:spec" -> {"f:replicas": {}}), where
// a path is a member of the set when its node is empty (a leaf) or carries ".". Associative
// lists use "k:{...}" elements keyed as patch.hpp's ListMapKeys says; set lists use "v:...".
#pragma once

#include <string>
#include <vector>

#include "json_util.hpp"

namespace kubesim {

using FieldPath = std::vector<std::string>;

// Every field of `obj` a manager would own by sending it (metadata identity and status excluded).
json FieldSetOf(const json& obj);
std::vector<FieldPath> Members(const json& set);
bool SetContains(const json& set, const FieldPath& p);
void SetInsert(json& set, const FieldPath& p);
void SetRemove(json& set, const FieldPath& p);
// The value at a field path inside an object, nullptr when absent.
const json* ValueAt(const json& obj, const FieldPath& p);
// `.spec.template.spec.containers[name="app"].image`, as the API server prints paths.
std::string PathString(const FieldPath& p);

struct FieldConflict {
  std::string manager;  // `"kubectl" using apps/v1`
  std::string field;    // PathString
};

struct ApplyOutcome {
  json object;                           // the merged object (managedFields included)
  std::vector<FieldConflict> conflicts;  // non-empty means the apply was rejected
};

// Applies `applied` (the full intent of `manager`) onto `current` (null when creating).
ApplyOutcome ServerSideApply(const json& current, const json& applied, const std::string& manager,
                             bool force, const std::string& api_version, const std::string& now);

// The conflict error message in the API server's words.
std::string ConflictMessage(const std::vector<FieldConflict>& conflicts);

// Records a non-apply write (create/update/patch) by `manager` with operation Update: the
// fields it changed become its own and leave other managers. Returns the new managedFields.
json RecordUpdate(const json& old_obj, const json& new_obj, const std::string& manager,
                  const std::string& api_version, const std::string& now);

}  // namespace kubesim
