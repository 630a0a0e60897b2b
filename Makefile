# attnlab — the two commands: `make demo` and `make test` (both install what they need first).
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
DEMO_OUT   ?= demo_out
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test fuzz bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DATTNLAB_TESTS=ON $(CMAKE_ARGS)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DATTNLAB_TORCH=OFF -DATTNLAB_TESTS=OFF -DATTNLAB_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/attnlab demo --out $(DEMO_OUT)

# ctest runs two entries at once on two cores: OpenMP threads that spin while waiting would starve the other one.
test: build fuzz
	cd $(BUILD) && OMP_WAIT_POLICY=PASSIVE ctest --output-on-failure -j 2

bench: deps
	cmake -S . -B $(BUILD) -DATTNLAB_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS)
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(DEMO_OUT)
