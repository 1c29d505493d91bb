// A self-signed serving certificate made at start-up for `--tls`. client-go (kubectl) only
// sends bearer tokens over https, so token-protected kube-sim must be able to serve TLS; the
// certificate goes into the kubeconfig as certificate-authority-data.
#pragma once

#include <memory>
#include <string>

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace kubesim {

struct TlsIdentity {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  std::string cert_pem;
  TlsIdentity() = default;
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;
  ~TlsIdentity();
};

// Certificate valid for `host` (IP or DNS name), 127.0.0.1 and localhost. Throws on failure.
std::unique_ptr<TlsIdentity> MakeSelfSignedIdentity(const std::string& host);

}  // namespace kubesim
