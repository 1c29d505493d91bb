#include "protobuf.hpp"

#include "aiops/base64.hpp"

#include <map>
#include <memory>

namespace kubesim {
namespace {

// A message schema: field number -> how to turn the value into JSON. Field numbers are those of
// k8s.io/api and k8s.io/apimachinery generated.proto.
enum class T {
  kString,
  kInt,
  kBool,
  kBytes,
  kMessage,
  kStringMap,
  kBytesMap,
  kQuantityMap,
  kIntOrString,
  kQuantity
};
struct Field;
using Schema = std::map<int, Field>;
struct Field {
  std::string name;
  T type;
  bool repeated = false;
  const Schema* schema = nullptr;
};

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) {
        ok = false;
        return 0;
      }
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return v;
  }
  std::string Bytes() {
    uint64_t n = Varint();
    if (!ok || n > static_cast<uint64_t>(end - p)) {
      ok = false;
      return "";
    }
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  void Skip(int wire) {
    if (wire == 0)
      Varint();
    else if (wire == 1)
      p += 8;
    else if (wire == 2)
      Bytes();
    else if (wire == 5)
      p += 4;
    else
      ok = false;
    if (p > end) ok = false;
  }
};

json Decode(const std::string& data, const Schema& schema);

json DecodeValue(const Field& f, Reader& r, int wire) {
  switch (f.type) {
    case T::kString:
      return r.Bytes();
    case T::kBytes:
      return aiops::Base64Encode(r.Bytes());
    case T::kInt: {
      uint64_t v = r.Varint();
      return static_cast<int64_t>(v);
    }
    case T::kBool:
      return r.Varint() != 0;
    case T::kMessage:
      return Decode(r.Bytes(), *f.schema);
    case T::kQuantity: {
      json q = Decode(r.Bytes(), Schema{{1, {"string", T::kString}}});
      return q.value("string", "0");
    }
    case T::kIntOrString: {
      json v = Decode(
          r.Bytes(),
          Schema{{1, {"type", T::kInt}}, {2, {"intVal", T::kInt}}, {3, {"strVal", T::kString}}});
      if (v.value("type", 0) == 1) return v.value("strVal", "");
      return v.value("intVal", 0);
    }
    default:
      break;
  }
  (void)wire;
  return nullptr;
}

json Decode(const std::string& data, const Schema& schema) {
  json out = json::object();
  Reader r{reinterpret_cast<const uint8_t*>(data.data()),
           reinterpret_cast<const uint8_t*>(data.data()) + data.size()};
  while (r.ok && r.p < r.end) {
    uint64_t key = r.Varint();
    int num = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    auto it = schema.find(num);
    if (it == schema.end()) {
      r.Skip(wire);
      continue;
    }
    const Field& f = it->second;
    if (f.type == T::kStringMap || f.type == T::kBytesMap || f.type == T::kQuantityMap) {
      T vt = f.type == T::kStringMap  ? T::kString
             : f.type == T::kBytesMap ? T::kBytes
                                      : T::kQuantity;
      json entry = Decode(r.Bytes(), Schema{{1, {"k", T::kString}}, {2, {"v", vt}}});
      out[f.name][entry.value("k", "")] = entry.contains("v") ? entry["v"] : json("");
      continue;
    }
    if (f.repeated && wire == 2 && f.type == T::kInt) {  // packed
      Reader pr{nullptr, nullptr};
      std::string bytes = r.Bytes();
      pr.p = reinterpret_cast<const uint8_t*>(bytes.data());
      pr.end = pr.p + bytes.size();
      while (pr.ok && pr.p < pr.end)
        out[f.name].push_back(static_cast<int64_t>(pr.Varint()));
      continue;
    }
    json v = DecodeValue(f, r, wire);
    if (f.repeated)
      out[f.name].push_back(v);
    else
      out[f.name] = v;
  }
  if (!r.ok) throw std::runtime_error("truncated protobuf message");
  return out;
}

// --- schemas (k8s.io/api v1.32 generated.proto) ------------------------------------------------
const Schema kTime = {{1, {"seconds", T::kInt}}, {2, {"nanos", T::kInt}}};
const Schema kOwnerRef = {{1, {"kind", T::kString}},     {3, {"name", T::kString}},
                          {4, {"uid", T::kString}},      {5, {"apiVersion", T::kString}},
                          {6, {"controller", T::kBool}}, {7, {"blockOwnerDeletion", T::kBool}}};
const Schema kObjectMeta = {{1, {"name", T::kString}},
                            {2, {"generateName", T::kString}},
                            {3, {"namespace", T::kString}},
                            {5, {"uid", T::kString}},
                            {6, {"resourceVersion", T::kString}},
                            {7, {"generation", T::kInt}},
                            {11, {"labels", T::kStringMap}},
                            {12, {"annotations", T::kStringMap}},
                            {13, {"ownerReferences", T::kMessage, true, &kOwnerRef}},
                            {14, {"finalizers", T::kString, true}}};
const Schema kSelectorReq = {
    {1, {"key", T::kString}}, {2, {"operator", T::kString}}, {3, {"values", T::kString, true}}};
const Schema kLabelSelector = {{1, {"matchLabels", T::kStringMap}},
                               {2, {"matchExpressions", T::kMessage, true, &kSelectorReq}}};
const Schema kEnvVar = {{1, {"name", T::kString}}, {2, {"value", T::kString}}};
const Schema kContainerPort = {{1, {"name", T::kString}},
                               {2, {"hostPort", T::kInt}},
                               {3, {"containerPort", T::kInt}},
                               {4, {"protocol", T::kString}},
                               {5, {"hostIP", T::kString}}};
const Schema kResources = {{1, {"limits", T::kQuantityMap}}, {2, {"requests", T::kQuantityMap}}};
const Schema kContainer = {{1, {"name", T::kString}},
                           {2, {"image", T::kString}},
                           {3, {"command", T::kString, true}},
                           {4, {"args", T::kString, true}},
                           {5, {"workingDir", T::kString}},
                           {6, {"ports", T::kMessage, true, &kContainerPort}},
                           {7, {"env", T::kMessage, true, &kEnvVar}},
                           {8, {"resources", T::kMessage, false, &kResources}},
                           {13, {"terminationMessagePath", T::kString}},
                           {14, {"imagePullPolicy", T::kString}},
                           {16, {"stdin", T::kBool}},
                           {17, {"stdinOnce", T::kBool}},
                           {18, {"tty", T::kBool}},
                           {20, {"terminationMessagePolicy", T::kString}}};
const Schema kPodSpec = {{2, {"containers", T::kMessage, true, &kContainer}},
                         {3, {"restartPolicy", T::kString}},
                         {4, {"terminationGracePeriodSeconds", T::kInt}},
                         {6, {"dnsPolicy", T::kString}},
                         {7, {"nodeSelector", T::kStringMap}},
                         {8, {"serviceAccountName", T::kString}},
                         {10, {"nodeName", T::kString}},
                         {16, {"hostname", T::kString}},
                         {17, {"subdomain", T::kString}},
                         {19, {"schedulerName", T::kString}},
                         {20, {"initContainers", T::kMessage, true, &kContainer}}};
const Schema kPodTemplate = {{1, {"metadata", T::kMessage, false, &kObjectMeta}},
                             {2, {"spec", T::kMessage, false, &kPodSpec}}};
const Schema kRollingUpdate = {{1, {"maxUnavailable", T::kIntOrString}},
                               {2, {"maxSurge", T::kIntOrString}}};
const Schema kDeploymentStrategy = {{1, {"type", T::kString}},
                                    {2, {"rollingUpdate", T::kMessage, false, &kRollingUpdate}}};
const Schema kDeploymentSpec = {{1, {"replicas", T::kInt}},
                                {2, {"selector", T::kMessage, false, &kLabelSelector}},
                                {3, {"template", T::kMessage, false, &kPodTemplate}},
                                {4, {"strategy", T::kMessage, false, &kDeploymentStrategy}},
                                {5, {"minReadySeconds", T::kInt}},
                                {6, {"revisionHistoryLimit", T::kInt}},
                                {7, {"paused", T::kBool}},
                                {9, {"progressDeadlineSeconds", T::kInt}}};
const Schema kReplicaSetSpec = {{1, {"replicas", T::kInt}},
                                {2, {"selector", T::kMessage, false, &kLabelSelector}},
                                {3, {"template", T::kMessage, false, &kPodTemplate}},
                                {4, {"minReadySeconds", T::kInt}}};
const Schema kStatefulSetSpec = {{1, {"replicas", T::kInt}},
                                 {2, {"selector", T::kMessage, false, &kLabelSelector}},
                                 {3, {"template", T::kMessage, false, &kPodTemplate}},
                                 {5, {"serviceName", T::kString}},
                                 {6, {"podManagementPolicy", T::kString}}};
const Schema kDaemonSetSpec = {{1, {"selector", T::kMessage, false, &kLabelSelector}},
                               {2, {"template", T::kMessage, false, &kPodTemplate}}};
const Schema kNamespaceSpec = {{1, {"finalizers", T::kString, true}}};
const Schema kServicePort = {{1, {"name", T::kString}},
                             {2, {"protocol", T::kString}},
                             {3, {"port", T::kInt}},
                             {4, {"targetPort", T::kIntOrString}},
                             {5, {"nodePort", T::kInt}}};
const Schema kServiceSpec = {{1, {"ports", T::kMessage, true, &kServicePort}},
                             {2, {"selector", T::kStringMap}},
                             {3, {"clusterIP", T::kString}},
                             {4, {"type", T::kString}},
                             {5, {"externalIPs", T::kString, true}},
                             {7, {"sessionAffinity", T::kString}},
                             {11, {"externalName", T::kString}}};

// proto2 encodes every non-pointer field, even when empty; Go's JSON form omits them. Drop empty
// strings, false, zero numbers (except the pointer fields where 0 is meaningful) and empty
// objects/lists so defaulting sees exactly what `kubectl create -o json` would have sent.
void Prune(json& v) {
  if (!v.is_object()) return;
  static const char* kKeepZero[] = {"replicas", "revisionHistoryLimit",
                                    "terminationGracePeriodSeconds", "progressDeadlineSeconds"};
  for (auto it = v.begin(); it != v.end();) {
    json& x = it.value();
    if (x.is_object()) Prune(x);
    if (x.is_array()) {
      for (auto& e : x)
        Prune(e);
    }
    bool keep_zero = false;
    for (const char* k : kKeepZero)
      keep_zero = keep_zero || it.key() == k;
    bool empty = (x.is_string() && x.get<std::string>().empty()) ||
                 (x.is_boolean() && !x.get<bool>()) || (x.is_number() && x == 0 && !keep_zero) ||
                 ((x.is_object() || x.is_array()) && x.empty());
    if (empty)
      it = v.erase(it);
    else
      ++it;
  }
}

Schema TopLevel(const Schema* spec) {
  Schema s = {{1, {"metadata", T::kMessage, false, &kObjectMeta}}};
  if (spec) s[2] = {"spec", T::kMessage, false, spec};
  return s;
}

}  // namespace

std::optional<json> DecodeKubernetesProtobuf(const std::string& body) {
  if (body.size() < 4 || body.compare(0, 4, std::string("k8s\0", 4)) != 0) return std::nullopt;
  static const Schema kTypeMeta = {{1, {"apiVersion", T::kString}}, {2, {"kind", T::kString}}};
  static const Schema kUnknown = {{1, {"typeMeta", T::kMessage, false, &kTypeMeta}},
                                  {2, {"raw", T::kString}}};
  json env = Decode(body.substr(4), kUnknown);
  std::string api = env["typeMeta"].value("apiVersion", ""),
              kind = env["typeMeta"].value("kind", "");
  static const std::map<std::string, Schema> kKinds = {
      {"v1/Namespace", TopLevel(&kNamespaceSpec)},
      {"v1/ConfigMap",
       {{1, {"metadata", T::kMessage, false, &kObjectMeta}},
        {2, {"data", T::kStringMap}},
        {3, {"binaryData", T::kBytesMap}},
        {4, {"immutable", T::kBool}}}},
      {"v1/Secret",
       {{1, {"metadata", T::kMessage, false, &kObjectMeta}},
        {2, {"data", T::kBytesMap}},
        {3, {"type", T::kString}},
        {4, {"stringData", T::kStringMap}},
        {5, {"immutable", T::kBool}}}},
      {"v1/Service", TopLevel(&kServiceSpec)},
      {"v1/Pod", TopLevel(&kPodSpec)},
      {"apps/v1/Deployment", TopLevel(&kDeploymentSpec)},
      {"apps/v1/ReplicaSet", TopLevel(&kReplicaSetSpec)},
      {"apps/v1/StatefulSet", TopLevel(&kStatefulSetSpec)},
      {"apps/v1/DaemonSet", TopLevel(&kDaemonSetSpec)},
  };
  auto it = kKinds.find(api + "/" + kind);
  if (it == kKinds.end()) return std::nullopt;
  json obj = Decode(env.value("raw", ""), it->second);
  Prune(obj);
  obj["apiVersion"] = api;
  obj["kind"] = kind;
  return obj;
}

}  // namespace kubesim
