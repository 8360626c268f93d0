#!/bin/sh
# Creates (or repairs) one sponsor's SFTP account and folders for cas-bdt, as root:
#
#   deploy/sponsor-account.sh LICENCE [PUBLIC-KEY-FILE]
#
# - a group per sponsor (bdt-<licence>) holding the sponsor's account and the service user,
#   so that the service reads the sponsor's uploads and the sponsor reads its results;
# - the account bdt-<licence>: no password, no shell, member of the group that the sshd
#   fragment (sshd-sponsors.conf) chroots to its home, <root>/<LICENCE>;
# - <root>/<LICENCE> owned by root and not writable by anyone else (sshd's condition for
#   a chroot), with inbox/ and outbox/ writable by the sponsor, archive/ and rejected/
#   readable; all four are set-group-id, so what cas-bdt writes there (0640) belongs to
#   the sponsor's group;
# - the sponsor's public key, when given, as <keys>/<account> (root-owned, 0644).
#
# Running it again changes nothing that is right and puts back what is not. The service
# learns of a new group when it starts: restart it (systemctl restart cas-bdt; files in
# progress finish first) after adding a sponsor. Then register the sponsor in cas-bdt
# (cas-bdt sponsor add LICENCE ..., which finds its folders made).
#
# Settings (environment): CAS_BDT_ROOT (/srv/bdt), CAS_BDT_USER (cas-bdt, the service
# user, which must exist), CAS_BDT_SPONSORS_GROUP (bdt-sponsors, the group the sshd
# fragment matches), CAS_BDT_ACCOUNT_PREFIX (bdt-), CAS_BDT_KEYS_DIR (/etc/ssh/cas-bdt-keys).
set -eu
export LC_ALL=C

root=${CAS_BDT_ROOT:-/srv/bdt}
service_user=${CAS_BDT_USER:-cas-bdt}
sponsors_group=${CAS_BDT_SPONSORS_GROUP:-bdt-sponsors}
prefix=${CAS_BDT_ACCOUNT_PREFIX:-bdt-}
keys_dir=${CAS_BDT_KEYS_DIR:-/etc/ssh/cas-bdt-keys}

fail() {
  echo "sponsor-account: $*" >&2
  exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: $0 LICENCE [PUBLIC-KEY-FILE]"
licence=$1
key=${2:-}
# The licence becomes a user name and a path: nothing but the licence format gets through
# (a whole-string match, in the C locale's ranges).
case $licence in
  [A-Z0-9][A-Z0-9][A-Z0-9][A-Z0-9][A-Z0-9][A-Z0-9][A-Z0-9][A-Z0-9][0-9X]) ;;
  *) fail "not a licence number: $licence" ;;
esac
[ "$(id -u)" = 0 ] || fail "run it as root"
id -u "$service_user" >/dev/null 2>&1 || fail "the service user $service_user does not exist (see the README)"
case $root in /*) ;; *) fail "CAS_BDT_ROOT must be an absolute path" ;; esac
[ -z "$key" ] || [ -r "$key" ] || fail "cannot read the key file $key"

account=$prefix$(printf '%s' "$licence" | tr 'A-Z' 'a-z')
group=$account
home=$root/$licence
service_group=$(id -gn "$service_user")

getent group "$sponsors_group" >/dev/null || groupadd --system "$sponsors_group"
getent group "$group" >/dev/null || groupadd "$group"
if ! id -u "$account" >/dev/null 2>&1; then
  # '*': no password can match, yet the account is not locked (a locked one may not log in with a key either).
  useradd --no-create-home --home-dir "$home" --shell /usr/sbin/nologin --gid "$group" --groups "$sponsors_group" --password '*' "$account"
else
  usermod --home "$home" --shell /usr/sbin/nologin --gid "$group" --append --groups "$sponsors_group" "$account"
fi
usermod --append --groups "$group" "$service_user"

# sshd refuses a chroot unless every folder above it is root's and writable by no one else.
install -d -o root -g "$service_group" -m 0750 "$root"
install -d -o root -g "$group" -m 0750 "$home"
install -d -o "$service_user" -g "$group" -m 2770 "$home/inbox" "$home/outbox"
install -d -o "$service_user" -g "$group" -m 2750 "$home/archive" "$home/rejected"

if [ -n "$key" ]; then
  install -d -o root -g root -m 0755 "$keys_dir"
  install -o root -g root -m 0644 "$key" "$keys_dir/$account"
fi

echo "sponsor-account: $licence: account $account, folders in $home; restart cas-bdt so that it joins the group $group"
