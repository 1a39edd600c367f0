# Thin wrapper over CMake + Ninja + ccache. `make run` and `make test` are the quick start.
BUILD ?= build
MODEL ?= demo
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test package package-check clean

all: build

deps:
	@bash packaging/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD)

# Opens the GUI on MODEL; with no display, runs the headless main job instead and says so.
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  exec $(BUILD)/app/quantscope $(MODEL); \
	else \
	  echo "quantscope: no display (DISPLAY/WAYLAND_DISPLAY unset); running the headless main job: quantscope-cli inspect $(MODEL)"; \
	  $(BUILD)/app/quantscope-cli inspect $(MODEL); \
	fi

test: build
	@cd $(BUILD) && ctest --output-on-failure -j2

# The Debian package (quantscope_VERSION_ARCH.deb in $(BUILD)/package), and its check: unpack it
# with dpkg -x into a temporary root and run the programs from there.
package: build
	@cd $(BUILD) && rm -f package/quantscope_*.deb && cpack -G DEB -B package >/dev/null && ls "$$PWD"/package/quantscope_*.deb

package-check: package
	@bash packaging/check-deb.sh $(BUILD)/package

clean:
	rm -rf $(BUILD)
