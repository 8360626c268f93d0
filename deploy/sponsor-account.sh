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
# - the sponsor's public key, when given, as <keys>/<account> (root-owned, 0644);
# - a quota for the sponsor's group (what it uploads and what cas-bdt keeps for it count
#   there, all of it owned by that group) where the file system of <root> has group quotas
#   on and the quota tools are installed; otherwise it says so and goes on.
#
# A symbolic link where one of these folders or the key should be is refused: nothing is
# changed through a link planted beforehand.
#
# Running it again changes nothing that is right and puts back what is not. The service
# learns of a new group when it starts: restart it (systemctl restart cas-bdt; files in
# progress finish first) after adding a sponsor. Then register the sponsor in cas-bdt
# (cas-bdt sponsor add LICENCE ..., which finds its folders made).
#
# Settings (environment): CAS_BDT_ROOT (/srv/bdt), CAS_BDT_USER (cas-bdt, the service
# user, which must exist), CAS_BDT_SPONSORS_GROUP (bdt-sponsors, the group the sshd
# fragment matches), CAS_BDT_ACCOUNT_PREFIX (bdt-), CAS_BDT_KEYS_DIR (/etc/ssh/cas-bdt-keys),
# CAS_BDT_QUOTA_MB (10240, the group's block limit; 0 sets none), CAS_BDT_QUOTA_FILES
# (100000, its file limit; 0 for none).
set -eu
export LC_ALL=C

root=${CAS_BDT_ROOT:-/srv/bdt}
service_user=${CAS_BDT_USER:-cas-bdt}
sponsors_group=${CAS_BDT_SPONSORS_GROUP:-bdt-sponsors}
prefix=${CAS_BDT_ACCOUNT_PREFIX:-bdt-}
keys_dir=${CAS_BDT_KEYS_DIR:-/etc/ssh/cas-bdt-keys}
quota_mb=${CAS_BDT_QUOTA_MB:-10240}
quota_files=${CAS_BDT_QUOTA_FILES:-100000}

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
case $quota_mb in '' | *[!0-9]*) fail "CAS_BDT_QUOTA_MB must be a whole number of MB" ;; esac
case $quota_files in '' | *[!0-9]*) fail "CAS_BDT_QUOTA_FILES must be a whole number" ;; esac

account=$prefix$(printf '%s' "$licence" | tr 'A-Z' 'a-z')
group=$account
home=$root/$licence
service_group=$(id -gn "$service_user")

# install(1) and chown follow links: a link where a folder or the key goes is refused,
# before anything is made. (Once made, these folders are root's or the service's, in
# folders only root may write to, so nobody else can put a link there afterwards.)
for p in "$root" "$home" "$home/inbox" "$home/outbox" "$home/archive" "$home/rejected" "$keys_dir" "$keys_dir/$account"; do
  [ ! -L "$p" ] || fail "$p is a symbolic link: refusing to go through it (remove it, then run this again)"
done

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

# The group's quota, where the file system keeps group quotas.
if [ "$quota_mb" = 0 ] && [ "$quota_files" = 0 ]; then
  echo "sponsor-account: no quota asked for (CAS_BDT_QUOTA_MB and CAS_BDT_QUOTA_FILES are 0)"
elif ! command -v setquota >/dev/null 2>&1; then
  echo "sponsor-account: the quota tools are not installed (apt-get install quota): no quota set for $group" >&2
else
  mount_point=$(df --output=target "$home" | tail -n 1)
  if setquota -g "$group" "$((quota_mb * 1024))" "$((quota_mb * 1024))" "$quota_files" "$quota_files" "$mount_point" 2>/dev/null; then
    echo "sponsor-account: quota for group $group on $mount_point: $quota_mb MB, $quota_files files"
  else
    echo "sponsor-account: group quotas are not enabled on $mount_point (mount option grpquota, then quotaon): no quota set for $group" >&2
  fi
fi

echo "sponsor-account: $licence: account $account, folders in $home; restart cas-bdt so that it joins the group $group"
