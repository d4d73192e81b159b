#!/usr/bin/env bash
# Installs the Debian packages the tests use as independent checkers and fixture builders.
set -euo pipefail
packages=(osslsigncode mingw-w64 sbsigntool openssl ca-certificates time wixl msitools gcab softhsm2 opensc g++ make python3)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Key Vault and Artifact Signing clients only talk to hosts under vault.azure.net and
# codesigning.azure.net: the emulators' names point at loopback (wus2 is the wrong-region host).
for host in vaultsign-test.vault.azure.net eus.codesigning.azure.net wus2.codesigning.azure.net; do
  if ! grep -q "[[:space:]]$host\$" /etc/hosts; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "127.0.0.1 $host" | $sudo tee -a /etc/hosts >/dev/null
  fi
done
