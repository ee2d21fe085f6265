# Sourced by .ci/run: the multi-host test rig (polar-core, dev.polarscale.core.rig.HostRig) runs a
# real OpenSSH sshd inside each test host's network namespace, with its own config, keys and port.
# This installs the server package only. The system sshd must never run: Debian's unit and init
# script honour /etc/ssh/sshd_not_to_be_run, invoke-rc.d is told not to start anything during the
# install, and the unit is disabled afterwards. Without the package the rig's tests skip with the reason.
if [ ! -x /usr/sbin/sshd ]; then
  mkdir -p /etc/ssh
  touch /etc/ssh/sshd_not_to_be_run
  ssh_policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    ssh_policy_made=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  if [ -n "$ssh_policy_made" ]; then rm -f /usr/sbin/policy-rc.d; fi
  unset ssh_policy_made
  if command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper disable ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
  update-rc.d ssh disable >/dev/null 2>&1 || true
fi
echo "sshd: $(/usr/sbin/sshd -V 2>&1 | head -n1 || true)"
