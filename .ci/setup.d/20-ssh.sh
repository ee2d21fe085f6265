# Sourced by .ci/run: the multi-host test rig (polar-core, dev.polarscale.core.rig.HostRig) runs a
# real OpenSSH sshd inside each test host's network namespace, with the rig's own config and keys.
# This installs the server package (and iproute2 where a minimal image lacks 'ip'). The system
# sshd must never run: Debian's unit and init script honour /etc/ssh/sshd_not_to_be_run,
# invoke-rc.d is told not to start anything during the install, and the unit is disabled
# afterwards. Without the package the rig's tests are skipped with the reason.
ssh_missing=
[ -x /usr/sbin/sshd ] || ssh_missing="openssh-server"
command -v ip >/dev/null || ssh_missing="$ssh_missing iproute2"
if [ -n "$ssh_missing" ]; then
  mkdir -p /etc/ssh
  touch /etc/ssh/sshd_not_to_be_run
  ssh_policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    ssh_policy_made=1
  fi
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $ssh_missing >/dev/null
  if [ -n "$ssh_policy_made" ]; then rm -f /usr/sbin/policy-rc.d; fi
  if command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper disable ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
  update-rc.d ssh disable >/dev/null 2>&1 || true
  unset ssh_policy_made
fi
unset ssh_missing
echo "sshd: $(/usr/sbin/sshd -V 2>&1 | head -n1 || true)"
