#!/usr/bin/env bash
# Makes the secrets of the reference compose cluster (docker-compose.cluster.yml):
#   scripts/cluster-secrets.sh [dir]     (default: secrets/ at the repository root, where
#                                          the compose file looks unless GRIDNODE_SECRETS_DIR is set)
# dir/password (the RESP and HTTP password clients give) and dir/cluster-secret
# (what members prove to each other) get 32 random bytes each, hex-encoded. Files
# that exist are kept. The directory is private to its owner (0700); the files
# are 0644 because the containers' user (uid 65532) reads them through the bind
# mount Compose makes of each secret.
set -euo pipefail
dir=${1:-"$(dirname "$0")/../secrets"}
mkdir -p "$dir"
chmod 0700 "$dir"
for name in password cluster-secret; do
  f="$dir/$name"
  if [ ! -s "$f" ]; then
    (umask 022; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f")
  fi
  chmod 0644 "$f"
done
echo "$dir"
