#!/usr/bin/env bash
# Installs the Debian packages the tests use as independent checkers and fixture builders.
set -euo pipefail
packages=(osslsigncode mingw-w64 sbsigntool openssl ca-certificates time)
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

# The Key Vault client only talks to hosts under vault.azure.net: the emulator's name points at loopback.
if ! grep -q 'vaultsign-test.vault.azure.net' /etc/hosts; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo '127.0.0.1 vaultsign-test.vault.azure.net' | $sudo tee -a /etc/hosts >/dev/null
fi
