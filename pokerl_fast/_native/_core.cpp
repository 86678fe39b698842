// The C++ core's Python face (pybind11). Everything it binds lives in csrc/ as plain C++.
//
//   Driver(bridge)   one emulator as the core drives it (step.h), reached through the bridge's EmuPorts
//   Batch(...)       every env of a vector env: step(actions) is one call that emulates and updates each
//                    env on one thread, the envs spread over OpenMP threads, without the GIL
//   functions        each native decision alone (decode, render, frame control, helpers, the HM macro),
//                    so the tests can hold them against pokerl_fast/env/reference.py
//
// Buffers are checked once, at construction (dtype, shape, contiguity, writeability), with a message that
// says what to pass instead; after that the core writes into them in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "blocks.h"
#include "canvas.h"
#include "core.h"

namespace py = pybind11;
using namespace pokerl;

namespace {

const char* dtype_name(int type) {
    static const char* names[] = {"uint8", "int32", "uint64", "float64"};
    return names[type];
}

// A shape written as Python writes a tuple: (), (3,), (72, 20).
std::string shape_str(const std::vector<py::ssize_t>& shape) {
    std::string s = "(";
    for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

std::vector<py::ssize_t> shape_of(const py::array& a) { return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()); }

// `obj` as a C-contiguous, writeable numpy array of `dtype` and `shape`, or a ValueError saying what to pass.
py::array checked(const std::string& what, const py::object& obj, const std::string& dtype,
                  const std::vector<py::ssize_t>& shape, bool writeable = true) {
    const std::string fix = "; allocate it with allocate_buffers(num_envs)";
    if (!py::isinstance<py::array>(obj))
        throw py::value_error(what + " must be a numpy array of dtype " + dtype + " and shape " + shape_str(shape) +
                              ", got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))) + fix);
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (!a.dtype().is(py::dtype(dtype)) || shape_of(a) != shape)
        throw py::value_error(what + " must have dtype " + dtype + " and shape " + shape_str(shape) + ", got " +
                              std::string(py::str(a.dtype())) + " " + shape_str(shape_of(a)) + fix);
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(what + " must be C-contiguous; pass np.ascontiguousarray(...) or allocate_buffers(num_envs)");
    if (writeable && !a.writeable()) throw py::value_error(what + " must be writeable; pass a copy (arr.copy())");
    return a;
}

// Any bytes-like object or array of exactly `size` uint8 bytes, as a contiguous uint8 array.
py::array_t<uint8_t, py::array::c_style> as_bytes(const py::object& data, py::ssize_t size, const std::string& what) {
    py::object arr = py::module_::import("numpy").attr("frombuffer");
    py::array a;
    if (py::isinstance<py::bytes>(data) || py::isinstance<py::bytearray>(data) || py::isinstance<py::memoryview>(data))
        a = py::reinterpret_borrow<py::array>(arr(data, "uint8"));
    else
        a = py::array::ensure(data);
    if (!a || !a.dtype().is(py::dtype::of<uint8_t>()) || a.size() != size)
        throw py::value_error(what + " must be " + std::to_string(size) + " uint8 bytes, got " +
                              (a ? std::string(py::str(a.dtype())) + " with " + std::to_string(a.size()) + " elements"
                                 : std::string("an object of another type")));
    return py::array_t<uint8_t, py::array::c_style>::ensure(a.attr("reshape")(-1));
}

// A batch of packed images for the policy's kernels (blocks.h): screen and visited as C-contiguous uint8 arrays of
// one (n, ...) shape with `ndim` dimensions (0: any, at least 2), or a ValueError saying what to pass.
std::pair<py::array, py::array> image_batch(const py::object& screen, const py::object& visited, int ndim) {
    const std::string want = "a C-contiguous uint8 numpy array of shape (n, rows, bytes per row)";
    if (!py::isinstance<py::array>(screen)) throw py::value_error("screen must be " + want);
    const auto s = py::reinterpret_borrow<py::array>(screen);
    if (ndim ? s.ndim() != ndim : s.ndim() < 2) throw py::value_error("screen must be " + want);
    const auto shape = shape_of(s);
    return {checked("screen", screen, "uint8", shape, false), checked("visited", visited, "uint8", shape, false)};
}

template <typename T>
py::array_t<T> copy_array(const T* data, std::vector<py::ssize_t> shape) {
    py::array_t<T> out(shape);
    std::memcpy(out.mutable_data(), data, sizeof(T) * out.size());
    return out;
}

py::dict ram_dict(const RamState& s) {
    py::dict d;
    d["map"] = s.map; d["x"] = s.x; d["y"] = s.y; d["facing"] = s.facing; d["badges"] = s.badges;
    d["party_count"] = s.party_count;
    d["species"] = copy_array(s.species, {red::PARTY_MAX});
    d["levels"] = copy_array(s.levels, {red::PARTY_MAX});
    d["hp"] = copy_array(s.hp, {red::PARTY_MAX});
    d["max_hp"] = copy_array(s.max_hp, {red::PARTY_MAX});
    d["in_battle"] = s.in_battle; d["cur_opponent"] = s.cur_opponent; d["enemy_hp"] = s.enemy_hp;
    d["money"] = s.money; d["num_bag_items"] = s.num_bag_items;
    d["bag_ids"] = copy_array(s.bag_ids, {s.num_bag_items});
    d["bag_qty"] = copy_array(s.bag_qty, {s.num_bag_items});
    d["events"] = copy_array(s.events, {red::EVENT_FLAGS_BYTES});
    d["dex_owned"] = copy_array(s.dex_owned, {red::POKEDEX_BYTES});
    d["dex_seen"] = copy_array(s.dex_seen, {red::POKEDEX_BYTES});
    d["joy_ignore"] = s.joy_ignore; d["walk_counter"] = s.walk_counter;
    d["badge_count"] = s.badge_count; d["event_count"] = s.event_count; d["required_count"] = s.required_count;
    d["level_sum"] = s.level_sum; d["hp_sum"] = s.hp_sum; d["max_hp_sum"] = s.max_hp_sum;
    d["dex_owned_count"] = s.dex_owned_count; d["dex_seen_count"] = s.dex_seen_count;
    return d;
}

// -- one emulator -------------------------------------------------------------------------------------

struct PyDriver {
    std::shared_ptr<Driver> d = std::make_shared<Driver>();
    py::object bridge;  // keeps the emulator (and so every port) alive
};

PyDriver make_driver(py::object bridge, bool native_screen) {
    PyDriver p;
    const auto address = bridge.attr("ports_address").cast<uintptr_t>();
    if (address == 0) throw py::value_error("the bridge has no ports; pass a pokerl_fast._native._bridge.Bridge");
    p.d->emu = *reinterpret_cast<const EmuPorts*>(address);
    if (!ports_complete(p.d->emu)) throw py::value_error("the bridge's ports are incomplete (a null pointer)");
    p.d->native_screen = native_screen;
    p.bridge = std::move(bridge);
    p.d->draw();
    return p;
}

std::pair<uint8_t, uint8_t> button_masks(const py::object& button) {
    if (button.is_none()) return {0, 0};
    const std::string name = button.cast<std::string>();
    if (name.empty()) return {0, 0};
    for (const auto& b : BUTTON_MASKS)
        if (name == b.name) return {b.directional, b.standard};
    throw py::value_error("unknown button " + name + "; use one of right, left, up, down, a, b, select, start");
}

// -- a batch of envs -----------------------------------------------------------------------------------

struct BufferSpec {
    const char* name;
    std::vector<py::ssize_t> shape;
    const char* dtype;
};

std::vector<BufferSpec> buffer_specs() {
    std::vector<BufferSpec> specs = {
        {"screen", {OBS_H, OBS_PACKED_W}, "uint8"},   {"visited", {OBS_H, OBS_PACKED_W}, "uint8"},
        {"ram", {NUM_RAM_FEATURES}, "float32"},       {"map_id", {}, "uint8"},
        {"reward", {}, "float32"},                    {"term_sums", {NUM_TERMS}, "float32"},
        {"frames", {}, "int32"},                    {"progress", {NUM_PROGRESS_FEATURES}, "float32"},
    };
    static std::vector<std::string> info_names;
    if (info_names.empty())
        for (int k = 0; k < NUM_INFO; ++k) info_names.push_back(std::string("info_") + INFO_NAMES[k]);
    for (int k = 0; k < NUM_INFO; ++k) specs.push_back({info_names[k].c_str(), {}, "int32"});
    return specs;
}

std::vector<py::ssize_t> with_envs(int n, const std::vector<py::ssize_t>& shape) {
    std::vector<py::ssize_t> s = {n};
    s.insert(s.end(), shape.begin(), shape.end());
    return s;
}

struct PyBatch {
    std::unique_ptr<Batch> b;
    int num_envs = 0;
    py::dict buffers;
    py::array weights, counts, masks, wram_ptrs, screen_ptrs;
    py::list drivers;
    bool stepping = false;  // built from drivers: step() and idle resets available

    template <typename T>
    T* data(const char* name) {
        return static_cast<T*>(py::reinterpret_borrow<py::array>(buffers[name]).mutable_data());
    }

    void bind(const py::dict& bufs, const py::object& w, const py::object& global_counts) {
        weights = checked("weights", w, "float32", {NUM_TERMS}, false);
        py::list missing;
        for (const auto& spec : buffer_specs())
            if (!bufs.contains(spec.name)) missing.append(spec.name);
        if (py::len(missing))
            throw py::value_error("buffers is missing " + std::string(py::str(missing)) +
                                  "; allocate them with allocate_buffers(num_envs)");
        for (const auto& spec : buffer_specs())
            buffers[spec.name] = checked(std::string("buffers['") + spec.name + "']", bufs[spec.name], spec.dtype,
                                         with_envs(num_envs, spec.shape));
        py::object gc = global_counts;
        if (gc.is_none()) gc = py::array_t<uint32_t>({red::KANTO_HEIGHT, red::KANTO_WIDTH});
        if (global_counts.is_none()) std::memset(py::array(gc).mutable_data(), 0, sizeof(uint32_t) * py::array(gc).size());
        counts = checked("global_counts", gc, "uint32", {red::KANTO_HEIGHT, red::KANTO_WIDTH});

        b = std::make_unique<Batch>(num_envs);
        b->weights = static_cast<const float*>(weights.data());
        b->global_counts = static_cast<uint32_t*>(counts.mutable_data());
        b->frames = data<int32_t>("frames");
        for (int i = 0; i < num_envs; ++i) {
            EnvCore& e = b->envs[i];
            e.obs_screen = data<uint8_t>("screen") + i * OBS_BYTES;
            e.obs_visited = data<uint8_t>("visited") + i * OBS_BYTES;
            e.obs_ram = data<float>("ram") + i * NUM_RAM_FEATURES;
            e.obs_map = data<uint8_t>("map_id") + i;
            e.reward = data<float>("reward") + i;
            e.term_sums = data<float>("term_sums") + i * NUM_TERMS;
            for (int k = 0; k < NUM_INFO; ++k) e.info[k] = data<int32_t>((std::string("info_") + INFO_NAMES[k]).c_str()) + i;
        }
    }

    int env_index(int env) const {
        if (env < 0 || env >= num_envs)
            throw py::index_error("env " + std::to_string(env) + " out of range for " + std::to_string(num_envs) + " envs");
        return env;
    }

    std::vector<int64_t> ids_of(const py::object& env_ids) const {
        auto ids = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(
            py::module_::import("numpy").attr("asarray")(env_ids, "int64").attr("reshape")(-1));
        std::vector<int64_t> out(ids.data(), ids.data() + ids.size());
        for (int64_t i : out)
            if (i < 0 || i >= num_envs)
                throw py::index_error("env_ids must lie in [0, " + std::to_string(num_envs) + "), got " +
                                      std::string(py::str(env_ids)));
        return out;
    }
};

StepConfig step_config(int hold, int min_frames, int max_frames, bool adaptive, uint32_t helpers) {
    // min_frames only bounds an adaptive step (frame_control reads it nowhere else).
    if (max_frames < 1 || hold < 0 || hold > max_frames || (adaptive && (min_frames < 0 || min_frames > max_frames)))
        throw py::value_error("need 0 <= hold <= max_frames, 0 <= min_frames <= max_frames and max_frames >= 1 (got hold " +
                              std::to_string(hold) + ", min_frames " + std::to_string(min_frames) + ", max_frames " +
                              std::to_string(max_frames) + ")");
    StepConfig c;
    c.hold = hold;
    c.min_frames = min_frames;
    c.max_frames = max_frames;
    c.adaptive = adaptive;
    c.helpers = helpers;
    return c;
}

PyBatch* new_batch(py::list drivers, py::object masks, py::object weights, py::dict buffers, int hold, int min_frames,
                   int max_frames, bool adaptive, uint32_t helpers, int num_threads, py::object global_counts) {
    auto* pb = new PyBatch();
    std::unique_ptr<PyBatch> guard(pb);
    pb->num_envs = int(py::len(drivers));
    if (pb->num_envs <= 0) throw py::value_error("Batch needs at least one Driver");
    pb->masks = py::array::ensure(py::module_::import("numpy").attr("ascontiguousarray")(masks, "uint8"));
    if (pb->masks.ndim() != 2 || pb->masks.shape(1) != 2 || pb->masks.shape(0) < 1)
        throw py::value_error("masks must have shape (num_actions, 2): each action's (directional, standard) joypad mask");
    pb->bind(buffers, weights, global_counts);
    pb->b->masks = static_cast<const uint8_t*>(pb->masks.data());
    pb->b->num_actions = int(pb->masks.shape(0));
    pb->b->config = step_config(hold, min_frames, max_frames, adaptive, helpers);
    pb->b->num_threads = num_threads < 1 ? 1 : num_threads;
    bool native = true;
    for (size_t i = 0; i < size_t(pb->num_envs); ++i) {
        if (!py::isinstance<PyDriver>(drivers[i])) throw py::type_error("Batch holds Driver objects");
        const PyDriver& d = drivers[i].cast<const PyDriver&>();
        if (i == 0) native = d.d->native_screen;
        if (d.d->native_screen != native) throw py::value_error("every Driver of a Batch needs the same native_screen");
        pb->b->drivers.push_back(d.d);
        EnvCore& e = pb->b->envs[i];
        e.wram = d.d->emu.wram;
        e.screen = d.d->picture();
        e.screen_is_shades = native;
    }
    pb->drivers = drivers;
    pb->stepping = true;
    return guard.release();
}

PyBatch* kernels_only(int num_envs, py::object wram_ptrs, py::object screen_ptrs, py::object weights, py::dict buffers,
                      py::object global_counts, const std::string& screen_format) {
    if (num_envs <= 0) throw py::value_error("num_envs must be positive, got " + std::to_string(num_envs));
    if (screen_format != "rgba" && screen_format != "shades")
        throw py::value_error("screen_format must be 'rgba' or 'shades', got '" + screen_format + "'");
    auto* pb = new PyBatch();
    std::unique_ptr<PyBatch> guard(pb);
    pb->num_envs = num_envs;
    auto ptrs = [&](const char* what, const py::object& obj) {
        py::array a = py::array::ensure(py::module_::import("numpy").attr("asarray")(obj));
        if (!a || !a.dtype().is(py::dtype::of<uint64_t>()) || a.ndim() != 1 || a.shape(0) != num_envs)
            throw py::value_error(std::string(what) + " must be uint64 of shape (" + std::to_string(num_envs) + ",), got " +
                                  (a ? std::string(py::str(a.dtype())) + " " + shape_str(shape_of(a)) : "another type"));
        a = a.attr("copy")();
        const auto* v = static_cast<const uint64_t*>(a.data());
        std::string nulls;
        for (int i = 0; i < num_envs; ++i)
            if (v[i] == 0) nulls += (nulls.empty() ? "" : ", ") + std::to_string(i);
        if (!nulls.empty())
            throw py::value_error(std::string(what) + " has null addresses at envs [" + nulls +
                                  "]; pass each env's buffer address (e.g. arr.ctypes.data)");
        return a;
    };
    pb->wram_ptrs = ptrs("wram_ptrs", wram_ptrs);
    pb->screen_ptrs = ptrs("screen_ptrs", screen_ptrs);
    pb->bind(buffers, weights, global_counts);
    for (int i = 0; i < num_envs; ++i) {
        pb->b->envs[i].wram = reinterpret_cast<const uint8_t*>(static_cast<const uint64_t*>(pb->wram_ptrs.data())[i]);
        pb->b->envs[i].screen = reinterpret_cast<const uint8_t*>(static_cast<const uint64_t*>(pb->screen_ptrs.data())[i]);
        pb->b->envs[i].screen_is_shades = screen_format == "shades";
    }
    return guard.release();
}

constexpr const char* STAGE_NAMES[NUM_STAGES] = {"all", "decode", "explore", "reward", "screen", "visited", "ram_features"};

py::dict get_state(PyBatch& pb) {
    const int n = pb.num_envs;
    py::dict st;
    for (const auto& f : state_fields()) {
        std::vector<py::ssize_t> shape = {n};
        if (f.count > 1) shape.push_back(f.count);
        py::array a(py::dtype(dtype_name(f.type)), shape);
        auto* dst = static_cast<uint8_t*>(a.mutable_data());
        const size_t bytes = size_t(FIELD_TYPE_SIZE[f.type]) * f.count;
        for (int i = 0; i < n; ++i) std::memcpy(dst + i * bytes, f.at(pb.b->envs[i]), bytes);
        st[f.name] = a;
    }
    std::vector<int32_t> fb;
    for (int i = 0; i < n; ++i) {
        const Exploration& x = pb.b->envs[i].explore;
        std::vector<int32_t> triples(size_t(3 * x.fallback_count()));
        if (!triples.empty()) x.export_fallback(triples.data());
        for (size_t t = 0; t < triples.size(); t += 3) fb.insert(fb.end(), {i, triples[t], triples[t + 1], triples[t + 2]});
    }
    py::array_t<int32_t> fallback({py::ssize_t(fb.size() / 4), py::ssize_t(4)});
    if (!fb.empty()) std::memcpy(fallback.mutable_data(), fb.data(), sizeof(int32_t) * fb.size());
    st["explore_fallback"] = fallback;
    st["global_counts"] = pb.counts.attr("copy")();
    // The revisit clock, and its tile stamps only while revisit decay is on (774 KB per env).
    py::array_t<int32_t> clock(n);
    for (int i = 0; i < n; ++i) clock.mutable_data()[i] = pb.b->envs[i].clock;
    st["revisit_clock"] = clock;
    if (n && !pb.b->envs[0].last_visit.empty()) {
        py::array_t<int32_t> stamps({py::ssize_t(n), py::ssize_t(KANTO_TILES)});
        for (int i = 0; i < n; ++i)
            std::memcpy(stamps.mutable_data() + size_t(i) * KANTO_TILES, pb.b->envs[i].last_visit.data(),
                        sizeof(int32_t) * KANTO_TILES);
        st["revisit_stamps"] = stamps;
    }
    return st;
}

void set_state(PyBatch& pb, const py::dict& state) {
    const int n = pb.num_envs;
    auto need = [&](const char* key) -> py::array {
        if (!state.contains(key))
            throw py::value_error(std::string("state is missing '") + key + "'; pass the dict from get_state()");
        return py::array::ensure(py::module_::import("numpy").attr("ascontiguousarray")(state[key]));
    };
    std::vector<py::array> arrays;
    std::vector<bool> present;
    // An optional field missing (a checkpoint from before it existed) is derived from the rest once RAM is decoded.
    const bool derive_levels = !state.contains("prev_level_value");
    const bool derive_scene = !state.contains("scene_print");
    const bool derive_most = !state.contains("reward_most");
    for (const auto& f : state_fields()) {
        present.push_back(!f.optional || state.contains(f.name));
        if (!present.back()) {
            arrays.push_back(py::array());
            continue;
        }
        py::array a = need(f.name);
        std::vector<py::ssize_t> shape = {n};
        if (f.count > 1) shape.push_back(f.count);
        if (!a.dtype().is(py::dtype(dtype_name(f.type))) || shape_of(a) != shape)
            throw py::value_error(std::string("state['") + f.name + "'] must be " + dtype_name(f.type) + " " +
                                  shape_str(shape) + " (num_envs=" + std::to_string(n) + "), got " +
                                  std::string(py::str(a.dtype())) + " " + shape_str(shape_of(a)));
        arrays.push_back(a);
    }
    py::array counts = need("global_counts");
    if (!counts.dtype().is(py::dtype::of<uint32_t>()) || shape_of(counts) != shape_of(pb.counts))
        throw py::value_error("state['global_counts'] must be uint32 " + shape_str(shape_of(pb.counts)));
    py::object fb_obj = state.contains("explore_fallback") ? py::object(state["explore_fallback"])
                                                            : py::object(py::array_t<int32_t>(std::vector<py::ssize_t>{0, 4}));
    auto fb = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(
        py::module_::import("numpy").attr("asarray")(fb_obj, "int32").attr("reshape")(-1, 4));
    const int32_t* rows = fb.data();
    for (py::ssize_t r = 0; r < fb.shape(0); ++r)
        if (rows[4 * r] < 0 || rows[4 * r] >= n)
            throw py::value_error("state['explore_fallback'] names envs outside [0, " + std::to_string(n) + ")");

    // Optional (checkpoints from before revisit decay lack them): a missing clock is 0, missing stamps are 0.
    auto optional_i32 = [&](const char* key, std::vector<py::ssize_t> shape) -> py::array_t<int32_t> {
        if (!state.contains(key)) return py::array_t<int32_t>();
        py::array a = need(key);
        if (!a.dtype().is(py::dtype::of<int32_t>()) || shape_of(a) != shape)
            throw py::value_error(std::string("state['") + key + "'] must be int32 " + shape_str(shape));
        return a;
    };
    const py::array_t<int32_t> clock = optional_i32("revisit_clock", {n});
    const py::array_t<int32_t> stamps = optional_i32("revisit_stamps", {n, KANTO_TILES});

    const auto& fields = state_fields();
    for (int i = 0; i < n; ++i) {
        EnvCore& e = pb.b->envs[i];
        for (size_t k = 0; k < fields.size(); ++k) {
            if (!present[k]) continue;
            const size_t bytes = size_t(FIELD_TYPE_SIZE[fields[k].type]) * fields[k].count;
            std::memcpy(fields[k].at(e), static_cast<const uint8_t*>(arrays[k].data()) + i * bytes, bytes);
        }
        std::vector<int32_t> mine;
        for (py::ssize_t r = 0; r < fb.shape(0); ++r)
            if (rows[4 * r] == i) mine.insert(mine.end(), rows + 4 * r + 1, rows + 4 * r + 4);
        load_exploration(e, mine.data(), int64_t(mine.size() / 3));
        e.clock = clock.size() ? clock.data()[i] : 0;
        if (!e.last_visit.empty()) {
            if (stamps.size())
                std::memcpy(e.last_visit.data(), stamps.data() + size_t(i) * KANTO_TILES, sizeof(int32_t) * KANTO_TILES);
            else
                std::fill(e.last_visit.begin(), e.last_visit.end(), 0);
        }
        decode_ram(e.wram, e.ram);
        if (derive_levels) {  // a checkpoint from before the level taper: the levels score goes on from where it was
            e.rew.prev_level_value = party_level_value(e.ram, 0, e.ram.party_count, e.levels_cap);
            e.rew.level_base = e.rew.prev_level_value - e.rew.score[T_LEVELS];
        }
        if (derive_most) {  // a checkpoint from before the most-seen counts: they start from today's RAM
            e.rew.most_events = e.rew.most_required = e.rew.most_badges = e.rew.most_dex = 0;
            note_most(e.rew, e.ram);
        }
        if (derive_scene) {  // a checkpoint from before the scene fingerprint: the scene counts as unchanged
            e.scene_print = scene_fingerprint(e.wram);
            e.scene_changed = 0;
        }
        write_outputs(e, 0.0);
    }
    std::memcpy(pb.counts.mutable_data(), counts.data(), sizeof(uint32_t) * counts.size());
}

// -- the auto-HM macro, one command at a time (tests hold it against the Python reference) -------------------

py::tuple command_tuple(const HmCommand& c) { return py::make_tuple(c.op, c.dmask, c.smask, c.frames); }

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "pokerl_fast's C++ core (csrc/): the env step, the batched kernels and each native decision.";

    // Sizes and names, from the headers.
    m.attr("WRAM_BASE") = WRAM_BASE;
    m.attr("WRAM_SIZE") = WRAM_SIZE;
    m.attr("SCREEN_SHAPE") = py::make_tuple(SCREEN_H, SCREEN_W, SCREEN_CHANNELS);
    m.attr("OBS_SCREEN_SHAPE") = py::make_tuple(OBS_H, OBS_PACKED_W);
    m.attr("OBS_VISITED_SHAPE") = py::make_tuple(OBS_H, OBS_PACKED_W);
    m.attr("OBS_PIXELS_SHAPE") = py::make_tuple(OBS_H, OBS_W);
    m.attr("VISITED_GRID") = py::make_tuple(VISIT_ROWS, VISIT_COLS, VISIT_PLAYER_ROW, VISIT_PLAYER_COL);
    m.attr("KANTO_SHAPE") = py::make_tuple(red::KANTO_HEIGHT, red::KANTO_WIDTH);
    m.attr("EXPLORE_WORDS_PER_ENV") = EXPLORE_WORDS;
    m.attr("NUM_TERMS") = int(NUM_TERMS);
    m.attr("NUM_INFO") = int(NUM_INFO);
    m.attr("NUM_RAM_FEATURES") = int(NUM_RAM_FEATURES);
    m.attr("NUM_PROGRESS_FEATURES") = int(NUM_PROGRESS_FEATURES);
    m.attr("PROGRESS_OFFSETS") = py::make_tuple(PROGRESS_SPECIES, PROGRESS_LEVEL, PROGRESS_HP, PROGRESS_KEY_ITEMS,
                                                PROGRESS_EVENTS);
    m.attr("NUM_LCD_REGS") = int(NUM_LCD_REGS);
    auto names = [](const char* const* list, int n) {
        py::list out;
        for (int k = 0; k < n; ++k) out.append(list[k]);
        return py::tuple(out);
    };
    m.attr("TERM_NAMES") = names(TERM_NAMES, NUM_TERMS);
    m.attr("INFO_NAMES") = names(INFO_NAMES, NUM_INFO);
    m.attr("RAM_FEATURE_NAMES") = names(RAM_FEATURE_NAMES, NUM_RAM_FEATURES);
    m.attr("STAGES") = names(STAGE_NAMES, NUM_STAGES);
    py::list field_names;
    for (const auto& f : state_fields()) field_names.append(f.name);
    m.attr("STATE_FIELDS") = py::tuple(field_names);
    py::dict buttons;
    for (const auto& b : BUTTON_MASKS) buttons[b.name] = py::make_tuple(b.directional, b.standard);
    m.attr("BUTTONS") = buttons;
    m.attr("SCENE_FREE") = int(SCENE_FREE);
    m.attr("SCENE_TEXT") = int(SCENE_TEXT);
    m.attr("SCENE_BATTLE") = int(SCENE_BATTLE);
    m.attr("HELPER_AUTO_DIALOG") = uint32_t(HELPER_AUTO_DIALOG);
    m.attr("HELPER_INFINITE_MONEY") = uint32_t(HELPER_INFINITE_MONEY);
    m.attr("HELPER_AUTO_FLASH") = uint32_t(HELPER_AUTO_FLASH);
    m.attr("HELPER_AUTO_HM") = uint32_t(HELPER_AUTO_HM);
    for (auto [name, value] : {std::pair<const char*, int>{"HM_OP_DONE", HM_OP_DONE}, {"HM_OP_TAP", HM_OP_TAP},
                               {"HM_OP_WAIT", HM_OP_WAIT}, {"HM_OP_CLEAR_MENU", HM_OP_CLEAR_MENU},
                               {"HM_RUNNING", HM_RUNNING}, {"HM_USED", HM_USED}, {"HM_ABORTED", HM_ABORTED},
                               {"HM_NOTHING", HM_NOTHING}, {"HM_FINISHED", HM_FINISHED},
                               {"HM_HOLD", HM_HOLD}, {"HM_TAP", HM_TAP}, {"HM_OPEN_TRIES", HM_OPEN_TRIES},
                               {"HM_OPEN_WAIT", HM_OPEN_WAIT}, {"HM_SETTLE", HM_SETTLE},
                               {"HM_NAV_TRIES", HM_NAV_TRIES}, {"HM_CLOSE_TAPS", HM_CLOSE_TAPS},
                               {"HM_CLOSE_LIMIT", HM_CLOSE_LIMIT}, {"HM_NO_MENU", HM_NO_MENU}})
        m.attr(name) = value;

    // -- decisions and kernels, one input at a time --------------------------------------------------------
    m.def("decode", [](py::object wram) {
        auto w = as_bytes(wram, WRAM_SIZE, "wram");
        RamState s;
        decode_ram(w.data(), s);
        return ram_dict(s);
    }, "Decodes WRAM (WRAM_SIZE bytes from WRAM_BASE) into a dict of typed fields (tests, debugging).");
    m.def("map_unfinished", [](py::object wram) {
        RamState s;
        decode_ram(as_bytes(wram, WRAM_SIZE, "wram").data(), s);
        return map_unfinished(s);
    }, "Whether the player's map in this WRAM has a completion event unset (explore_boost pays there).");
    m.def("encode_progress", [](py::object wram) {
        auto w = as_bytes(wram, WRAM_SIZE, "wram");
        RamState s;
        decode_ram(w.data(), s);
        py::array_t<float> out(NUM_PROGRESS_FEATURES);
        encode_progress(s, w.data(), out.mutable_data());
        return out;
    }, "The progress observation (NUM_PROGRESS_FEATURES float32) of this WRAM: party species/level/HP, key items, "
       "required events.");
    m.def("ready_for_input", [](py::object wram) { return ready_for_input(as_bytes(wram, WRAM_SIZE, "wram").data()); },
          "True when wJoyIgnore == 0 and wWalkCounter == 0 in this WRAM (WRAM_SIZE bytes).");
    m.def("scene_of", [](py::object wram) { return scene_of(as_bytes(wram, WRAM_SIZE, "wram").data()); },
          "SCENE_BATTLE (wIsInBattle != 0), SCENE_TEXT (wFontLoaded's bit: a text box or menu) or SCENE_FREE.");
    m.def("scene_fingerprint", [](py::object wram) { return scene_fingerprint(as_bytes(wram, WRAM_SIZE, "wram").data()); },
          "What a text box, menu or battle shows, as a 64-bit FNV-1a hash (wTileMap less the text arrow, the menu "
          "cursor, both battle HP values).");
    m.def("render_half", [](py::object vram, py::object oam, py::object regs) {
        auto v = as_bytes(vram, red::VRAM_SIZE, "vram");
        auto o = as_bytes(oam, red::OAM_SIZE, "oam");
        auto r = as_bytes(regs, NUM_LCD_REGS, "regs");
        py::array_t<uint8_t> out({RENDER_H, RENDER_W});
        render_half(v.data(), o.data(), r.data(), out.mutable_data());
        return out;
    }, "OBS_PIXELS_SHAPE shades drawn from VRAM, OAM and the 8 LCD registers (see render.h).");
    m.def("encode_screen", [](py::object screen) {
        py::array a = checked("screen", screen, "uint8", {SCREEN_H, SCREEN_W, SCREEN_CHANNELS}, false);
        py::array_t<uint8_t> out({OBS_H, OBS_PACKED_W});
        encode_screen(static_cast<const uint8_t*>(a.data()), out.mutable_data());
        return out;
    }, "SCREEN_SHAPE uint8 RGBA -> OBS_SCREEN_SHAPE packed 2-bit shades.");
    m.def("hm_plan", [](py::object wram, uint8_t dmask) {
        const HmPlan p = plan_hm(as_bytes(wram, WRAM_SIZE, "wram").data(), dmask);
        return py::make_tuple(p.kind, p.party_index, p.field_move, p.start_menu_item);
    }, "The auto-HM decision after a step with d-pad mask dmask: (kind 0 none/1 cut/2 surf, party index, "
       "field-move index, start-menu index of POKEMON).");
    m.def("hm_strength_ready", [](py::object wram) { return strength_ready(as_bytes(wram, WRAM_SIZE, "wram").data()); },
          "Whether auto-HM keeps Strength on for this WRAM (a mon knows it, Rainbow badge owned).");
    m.def("frame_control", [](int f, int hold, int min_frames, int max_frames, bool adaptive, uint32_t helpers,
                              bool tapping, py::object wram) {
        const StepConfig c = step_config(hold, min_frames, max_frames, adaptive, helpers);
        const FrameControl fc = frame_control(f, c, tapping, as_bytes(wram, WRAM_SIZE, "wram").data());
        return py::make_tuple(fc.release, fc.dialog, fc.last);
    }, "What frame f of a step does: (release the agent's button, auto-dialog 0 none/1 press A/2 release A, last frame).");
    m.def("keep_helpers", [](py::object wram, uint32_t helpers) {
        py::array a = checked("wram", wram, "uint8", {WRAM_SIZE});
        keep_helpers(static_cast<uint8_t*>(a.mutable_data()), helpers);
    }, "Writes into a (WRAM_SIZE,) uint8 WRAM array what the money and flash helpers pin after a step.");
    m.attr("CANVAS_SHAPE") = py::make_tuple(CANVAS_H, CANVAS_W);
    m.attr("CANVAS_CELL") = CANVAS_CELL;
    m.def("paint_view", [](py::object vram, py::object oam, py::object regs, py::object wram, std::array<int, 4> clip,
                           py::object canvas, py::object painted) {
        const auto v = as_bytes(vram, red::VRAM_SIZE, "vram");
        const auto o = as_bytes(oam, red::OAM_SIZE, "oam");
        const auto r = as_bytes(regs, NUM_LCD_REGS, "regs");
        RamState s{};
        decode_ram(as_bytes(wram, WRAM_SIZE, "wram").data(), s);
        py::array c = checked("canvas", canvas, "uint8", {CANVAS_H, CANVAS_W});
        py::array m = checked("painted", painted, "uint8", {red::KANTO_HEIGHT, red::KANTO_WIDTH});
        return paint_view(v.data(), o.data(), r.data(), s, clip.data(), static_cast<uint8_t*>(c.mutable_data()),
                          static_cast<uint8_t*>(m.mutable_data()));
    }, py::arg("vram"), py::arg("oam"), py::arg("regs"), py::arg("wram"), py::arg("clip"), py::arg("canvas"),
       py::arg("painted"),
       "Paints one env's background layer (VRAM under the 8 LCD registers, full resolution, no window or sprites) "
       "onto the Kanto canvas (CANVAS_SHAPE shades, CANVAS_CELL pixels a step) at the player's global position, "
       "within clip (x0, y0, x1, y1: the player's map's global steps), and marks the steps in painted "
       "(KANTO_HEIGHT x KANTO_WIDTH); returns the steps painted, 0 when the view is not a still picture of the map "
       "(battle, walk, a window on screen, no global place).");
    m.def("image_blocks", [](py::object screen, py::object visited, py::object shades, py::object out) {
        const auto [s, v] = image_batch(screen, visited, 3);
        const auto shape = shape_of(s);
        py::array sh = py::reinterpret_borrow<py::array>(shades);
        if (!py::isinstance<py::array>(shades) || sh.ndim() != 1)
            throw py::value_error("shades must be a (4,) uint16 or uint32 numpy array");
        const std::string dtype = sh.dtype().is(py::dtype("uint16")) ? "uint16" : "uint32";
        sh = checked("shades", shades, dtype, {4}, false);
        py::array o = py::reinterpret_borrow<py::array>(out);
        if (!py::isinstance<py::array>(out) || o.ndim() != 4 || o.shape(1) > shape[1] / 4 || o.shape(2) > shape[2])
            throw py::value_error("out must be a (n, blocks_y <= rows // 4, blocks_x <= cols, 32) numpy array");
        o = checked("out", out, dtype, {shape[0], o.shape(1), o.shape(2), 32});
        const auto n = static_cast<long>(shape[0]);
        const int rows = static_cast<int>(shape[1]), cols = static_cast<int>(shape[2]);
        const int blocks_y = static_cast<int>(o.shape(1)), blocks_x = static_cast<int>(o.shape(2));
        const auto* sp = static_cast<const uint8_t*>(s.data());
        const auto* vp = static_cast<const uint8_t*>(v.data());
        py::gil_scoped_release nogil;
        if (dtype == "uint16")
            image_blocks(sp, vp, n, rows, cols, blocks_y, blocks_x, static_cast<const uint16_t*>(sh.data()),
                         static_cast<uint16_t*>(o.mutable_data()));
        else
            image_blocks(sp, vp, n, rows, cols, blocks_y, blocks_x, static_cast<const uint32_t*>(sh.data()),
                         static_cast<uint32_t*>(o.mutable_data()));
    }, py::arg("screen"), py::arg("visited"), py::arg("shades"), py::arg("out"),
       "Writes the packed (n, rows, cols) screen and visited images as 4x4 blocks of pixels into out "
       "(n, blocks_y <= rows // 4, blocks_x <= cols, 32): the first blocks_y x blocks_x blocks; element "
       "dy*8 + c*4 + dx of block (Y, X) is shades[pixel (4Y+dy, 4X+dx) of image c] (blocks.h); shades (4,) and out share one dtype, uint16 (bfloat16 bits) or uint32 (float32 bits). Without "
       "the GIL.");
    m.def("unique_images", [](py::object screen, py::object visited) {
        const auto [s, v] = image_batch(screen, visited, 0);
        const auto shape = shape_of(s);
        const auto n = static_cast<long>(shape[0]);
        const long row_bytes = n ? static_cast<long>(s.size() / n) : 0;
        py::array_t<int64_t> first(n), inverse(n);
        long distinct;
        {
            py::gil_scoped_release nogil;
            distinct = unique_images(static_cast<const uint8_t*>(s.data()), static_cast<const uint8_t*>(v.data()), n,
                                     row_bytes, first.mutable_data(), inverse.mutable_data());
        }
        first.resize({distinct});
        return py::make_tuple(first, inverse);
    }, py::arg("screen"), py::arg("visited"),
       "(first, inverse) of the distinct images of a batch, an image being sample i's screen and visited rows: "
       "first[k] the first sample of the k-th distinct image in order of first appearance, inverse[i] the k of "
       "sample i (int64; blocks.h). Exact (the bytes are compared). Without the GIL.");
    m.def("render_background", [](py::object vram, py::object regs) {
        auto v = as_bytes(vram, red::VRAM_SIZE, "vram");
        auto r = as_bytes(regs, NUM_LCD_REGS, "regs");
        py::array_t<uint8_t> out({red::SCREEN_H, red::SCREEN_W});
        render_background(v.data(), r.data(), out.mutable_data());
        return out;
    }, "(SCREEN_H, SCREEN_W) shades of the background layer alone (no window, no objects) from VRAM and the 8 LCD "
       "registers (see render.h).");
    m.def("keep_strength", [](py::object wram) {
        py::array a = checked("wram", wram, "uint8", {WRAM_SIZE});
        keep_strength(static_cast<uint8_t*>(a.mutable_data()));
    }, "Sets Strength active in a (WRAM_SIZE,) uint8 WRAM array when the party may use it (auto-HM).");

    py::class_<HmMacro>(m, "HmMacro", "The auto-HM menu macro (hm_macro.h), one command per next(wram).")
        .def_static("start", [](py::object wram, uint8_t dmask) { return hm_start(as_bytes(wram, WRAM_SIZE, "wram").data(), dmask); },
                    "The macro for the RAM after a step with d-pad mask dmask.")
        .def("next", [](HmMacro& mac, py::object wram) { return command_tuple(hm_next(mac, as_bytes(wram, WRAM_SIZE, "wram").data())); },
             "The next command (op, dmask, smask, frames) given the RAM the previous one left.")
        .def_property_readonly("plan", [](const HmMacro& mac) {
            return py::make_tuple(mac.plan.kind, mac.plan.party_index, mac.plan.field_move, mac.plan.start_menu_item); })
        .def_property_readonly("fields", [](const HmMacro& mac) {
            py::dict d;
            d["stage"] = mac.stage; d["opening"] = mac.opening; d["attempt"] = mac.attempt; d["waited"] = mac.waited;
            d["target"] = mac.target; d["taps"] = mac.taps; d["close_frames"] = mac.close_frames; d["outcome"] = mac.outcome;
            return d; })
        .def_readonly("outcome", &HmMacro::outcome);

    // -- one emulator ------------------------------------------------------------------------------------
    py::class_<PyDriver>(m, "Driver", "One emulator as the core steps it: Driver(bridge, native_screen=True).")
        .def(py::init(&make_driver), py::arg("bridge"), py::arg("native_screen") = true)
        .def("run_frames", [](PyDriver& p, py::object button, int hold, int frames, int min_frames, bool adaptive,
                              uint32_t helpers) {
            const auto [d, s] = button_masks(button);
            const StepConfig c = step_config(hold, min_frames, frames, adaptive, helpers);
            py::gil_scoped_release nogil;
            return p.d->run(d, s, c);
        }, py::arg("button"), py::arg("hold") = 8, py::arg("frames") = 24, py::arg("min_frames") = 0,
           py::arg("adaptive") = false, py::arg("helpers") = 0,
           "Press button (None or '' for none) for hold frames within frames frames, then the helpers; returns frames ticked.")
        .def("execute", [](PyDriver& p, int op, uint8_t dmask, uint8_t smask, int frames) {
            py::gil_scoped_release nogil;
            return p.d->execute(HmCommand{op, dmask, smask, frames});
        }, "Executes one auto-HM macro command; returns the frames it ticked.")
        .def("tick", [](PyDriver& p, int frames, bool render) {
            py::gil_scoped_release nogil;
            p.d->tick_frames(frames, render);
        }, py::arg("frames"), py::arg("render") = false, "Tick without input; renders the last frame if asked.")
        .def("idle", [](PyDriver& p, int frames) {
            py::gil_scoped_release nogil;
            p.d->idle(frames);
        }, "Tick frames without input and leave the observed screen current (after load_state it is stale).")
        .def("draw", [](PyDriver& p) { p.d->draw(); }, "Draws the native picture now (done after each step in native mode).")
        .def("shades_view", [](py::object self) {
            PyDriver& p = self.cast<PyDriver&>();
            return py::array_t<uint8_t>({RENDER_H, RENDER_W}, {RENDER_W, 1}, p.d->shades, self);
        }, "A zero-copy (72, 80) view of the native half-resolution picture (shades 0..3).")
        .def("lcd_registers", [](PyDriver& p) { return py::bytes(reinterpret_cast<const char*>(p.d->regs), size_t(NUM_LCD_REGS)); },
             "The LCD registers the native picture was drawn from (LCDC, SCY, SCX, WY, WX, BGP, OBP0, OBP1).")
        .def_property_readonly("native_screen", [](const PyDriver& p) { return p.d->native_screen; })
        .def_property_readonly("frames", [](const PyDriver& p) { return p.d->frames; }, "Frames ticked since construction.")
        .def_property_readonly("hm_used", [](const PyDriver& p) { return p.d->hm_used; })
        .def_property_readonly("hm_aborted", [](const PyDriver& p) { return p.d->hm_aborted; })
        .def_property_readonly("bridge", [](const PyDriver& p) { return p.bridge; });

    // -- every env of a vector env -----------------------------------------------------------------------
    m.def("allocate_buffers", [](int num_envs) {
        py::dict out;
        py::object zeros = py::module_::import("numpy").attr("zeros");
        for (const auto& spec : buffer_specs()) out[spec.name] = zeros(py::tuple(py::cast(with_envs(num_envs, spec.shape))), spec.dtype);
        return out;
    }, "Zeroed output buffers with the shapes and dtypes Batch expects (see BUFFER_SPECS).");
    py::dict specs;
    for (const auto& spec : buffer_specs()) specs[spec.name] = py::make_tuple(py::tuple(py::cast(spec.shape)), spec.dtype);
    m.attr("BUFFER_SPECS") = specs;

    py::class_<PyBatch>(m, "Batch", R"(Every env of a vector env, stepped and updated natively.

Batch(drivers, masks, weights, buffers, hold, min_frames, max_frames, adaptive, helpers, num_threads, global_counts=None)
  drivers: one Driver per env; masks: (num_actions, 2) joypad masks; weights: float32 (NUM_TERMS,), kept by
  reference (in-place edits apply next step); buffers: allocate_buffers(num_envs), written in place;
  global_counts: optional uint32 KANTO_SHAPE array summing steps per global tile.
Batch.from_pointers(num_envs, wram_ptrs, screen_ptrs, weights, buffers, global_counts=None, screen_format="rgba")
  the kernels alone over caller-owned memory (tests, benchmarks): update/reset/state, no step.)")
        .def(py::init(&new_batch), py::arg("drivers"), py::arg("masks"), py::arg("weights"), py::arg("buffers"),
             py::arg("hold") = 8, py::arg("min_frames") = 0, py::arg("max_frames") = 24, py::arg("adaptive") = false,
             py::arg("helpers") = 0, py::arg("num_threads") = 1, py::arg("global_counts") = py::none())
        .def_static("from_pointers", &kernels_only, py::arg("num_envs"), py::arg("wram_ptrs"), py::arg("screen_ptrs"),
                    py::arg("weights"), py::arg("buffers"), py::arg("global_counts") = py::none(),
                    py::arg("screen_format") = "rgba")
        .def_readonly("num_envs", &PyBatch::num_envs)
        .def_readonly("buffers", &PyBatch::buffers)
        .def_readonly("weights", &PyBatch::weights)
        .def("step", [](PyBatch& pb, py::object actions) {
            if (!pb.stepping) throw py::value_error("this Batch holds kernels only (from_pointers); build it from Drivers to step");
            auto a = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(actions);
            if (!a || a.ndim() != 1 || a.shape(0) != pb.num_envs)
                throw py::value_error("actions must be int64 of shape (" + std::to_string(pb.num_envs) + ",)");
            const int64_t* v = a.data();
            for (int i = 0; i < pb.num_envs; ++i)
                if (v[i] < 0 || v[i] >= pb.b->num_actions)
                    throw py::value_error("action " + std::to_string(v[i]) + " for env " + std::to_string(i) +
                                          " is outside 0.." + std::to_string(pb.b->num_actions - 1));
            py::gil_scoped_release nogil;
            pb.b->step(v);
        }, "One vector step: each env presses its action's buttons, emulates, and is updated; fills every buffer.")
        .def("set_pointers", [](PyBatch& pb, int env, uint64_t wram_ptr, uint64_t screen_ptr) {
            if (pb.stepping) throw py::value_error("set_pointers is for kernels-only batches (from_pointers)");
            pb.env_index(env);
            if (wram_ptr == 0 || screen_ptr == 0)
                throw py::value_error("set_pointers needs non-zero wram_ptr and screen_ptr addresses");
            static_cast<uint64_t*>(pb.wram_ptrs.mutable_data())[env] = wram_ptr;
            static_cast<uint64_t*>(pb.screen_ptrs.mutable_data())[env] = screen_ptr;
            pb.b->envs[env].wram = reinterpret_cast<const uint8_t*>(wram_ptr);
            pb.b->envs[env].screen = reinterpret_cast<const uint8_t*>(screen_ptr);
        }, "Points a kernels-only env at new memory (the caller keeps it alive and in place).")
        .def("update", [](PyBatch& pb) {
            py::gil_scoped_release nogil;
            pb.b->update_all();
        }, "Decode, explore, reward and encode every env from its current memory (no emulation).")
        .def("reset", [](PyBatch& pb, py::object env_ids, py::object idle_frames) {
            const std::vector<int64_t> ids = pb.ids_of(env_ids);
            std::vector<int64_t> idle;
            if (!idle_frames.is_none()) {
                if (!pb.stepping) throw py::value_error("idle_frames needs a Batch built from Drivers");
                auto f = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(
                    py::module_::import("numpy").attr("asarray")(idle_frames, "int64").attr("reshape")(-1));
                if (f.size() != py::ssize_t(ids.size()))
                    throw py::value_error("idle_frames needs one count per env id");
                idle.assign(f.data(), f.data() + f.size());
                for (int64_t k : idle)
                    if (k < 0) throw py::value_error("idle_frames must be >= 0");
            }
            py::gil_scoped_release nogil;
            for (size_t k = 0; k < ids.size(); ++k) {
                if (!idle.empty()) pb.b->drivers[ids[k]]->idle(int(idle[k]));
                reset_env(pb.b->envs[ids[k]]);
            }
        }, py::arg("env_ids"), py::arg("idle_frames") = py::none(),
           "Starts a new episode for env_ids on their current RAM (after idle_frames[k] frames without input, when "
           "given): clears exploration, re-bases rewards, writes fresh observations with reward 0 and term_sums 0.")
        .def("reset_exploration", [](PyBatch& pb, py::object env_ids) {
            const std::vector<int64_t> ids = pb.ids_of(env_ids);
            pb.b->reset_exploration(ids.data(), int64_t(ids.size()));
        }, py::arg("env_ids"),
           "Clears env_ids' exploration memory (the current tile stays visited) without a new episode; the explore "
           "score is kept, so the reward does not jump; rewrites their visited crop and explore info.")
        .def("set_mechanics", [](PyBatch& pb, double explore_boost, bool observe_progress, double revisit_half_life,
                                 double levels_cap) {
            if (!(explore_boost >= 0.0)) throw py::value_error("explore_boost must be >= 0");
            if (!(revisit_half_life >= 0.0)) throw py::value_error("revisit_half_life must be >= 0 (0: off)");
            if (!(levels_cap >= 0.0)) throw py::value_error("levels_cap must be >= 0 (0: no taper)");
            float* progress = pb.data<float>("progress");
            for (int i = 0; i < pb.num_envs; ++i) {
                EnvCore& e = pb.b->envs[i];
                e.explore_boost = explore_boost;
                e.revisit_half_life = revisit_half_life;
                e.levels_cap = levels_cap;
                if (revisit_half_life > 0.0 && e.last_visit.empty()) e.last_visit.assign(KANTO_TILES, 0);
                if (revisit_half_life == 0.0) std::vector<int32_t>().swap(e.last_visit);
                e.obs_progress = observe_progress ? progress + i * NUM_PROGRESS_FEATURES : nullptr;
                if (e.obs_progress && e.started) encode_progress(e.ram, e.wram, e.obs_progress);
            }
        }, py::arg("explore_boost") = 1.0, py::arg("observe_progress") = false, py::arg("revisit_half_life") = 0.0,
           py::arg("levels_cap") = 0.0,
           "Progress mechanics: a new tile on an unfinished map pays explore_boost; observe_progress writes "
           "buffers['progress'] every update; revisit_half_life > 0 lets a known tile's value decay with that "
           "half-life in steps, and standing on it again pays what it lost (0: off); the levels term counts a "
           "mon's levels above levels_cap a quarter each (0: no taper). Set before the first reset.")
        .def("run_stage", [](PyBatch& pb, const std::string& stage) {
            int s = -1;
            for (int k = 0; k < NUM_STAGES; ++k)
                if (stage == STAGE_NAMES[k]) s = k;
            if (s < 0) throw py::value_error("stage must be one of all, decode, explore, reward, screen, visited, ram_features; got '" + stage + "'");
            py::gil_scoped_release nogil;
            pb.b->run_stage(s);
        }, "Runs one kernel over all envs (benchmarks); one of STAGES.")
        .def("global_counts", [](PyBatch& pb) { return pb.counts; },
             "The (KANTO_HEIGHT, KANTO_WIDTH) uint32 array of steps per global tile, over all envs (live view).")
        .def("explore_counts", [](PyBatch& pb) {
            py::array_t<int64_t> out(pb.num_envs);
            for (int i = 0; i < pb.num_envs; ++i) out.mutable_data()[i] = pb.b->envs[i].explore.count;
            return out;
        }, "Unique tiles visited this episode, per env (int64 copy).")
        .def("visited_bits", [](PyBatch& pb, int env) {
            const auto& bits = pb.b->envs[pb.env_index(env)].explore.bits;
            py::array_t<bool> out({red::KANTO_HEIGHT, red::KANTO_WIDTH});
            bool* o = out.mutable_data();
            for (int g = 0; g < red::KANTO_HEIGHT * red::KANTO_WIDTH; ++g) o[g] = (bits[g >> 6] >> (g & 63)) & 1;
            return out;
        }, "Env's global visited bitmap as a bool (KANTO_HEIGHT, KANTO_WIDTH) array (a copy).")
        .def("helper_counts", [](PyBatch& pb) {
            uint64_t used = 0, aborted = 0;
            for (const auto& d : pb.b->drivers) used += d->hm_used, aborted += d->hm_aborted;
            py::dict out;
            out["hm_used"] = used;
            out["hm_aborted"] = aborted;
            return out;
        }, "Totals over all envs since construction of what the scripted helpers did.")
        .def("get_state", &get_state, "Everything needed to resume (STATE_FIELDS, exploration fallback, global counts).")
        .def("set_state", &set_state,
             "Restores get_state() output. Load the emulators' states first: outputs are rewritten from current RAM.");
}
