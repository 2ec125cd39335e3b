// config.json -> Config. One pass over the JSON document; every error names the file, the JSON
// pointer of the offending value and the reason.
#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "config_internal.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "namespaces.hpp"

namespace nook {

namespace config_detail {
std::string Reader::show(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}
}  // namespace config_detail

namespace {
using namespace config_detail;

Hook parse_hook(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Hook h;
  h.path = r.str(r.required(j, "path", ptr), join(ptr, "path"));
  require_absolute(r, h.path, join(ptr, "path"));
  if (auto* v = Reader::get(j, "args")) h.args = r.strings(*v, join(ptr, "args"));
  if (auto* v = Reader::get(j, "env")) h.env = r.strings(*v, join(ptr, "env"));
  if (auto* v = Reader::get(j, "timeout")) {
    h.timeout = static_cast<int>(r.in_range(*v, join(ptr, "timeout"), 1, INT32_MAX,
                                            "must be between 1 and 2147483647 (seconds)"));
  }
  return h;
}

// A parse error (or out_of_range, for 1e400) as "NAME: message", without nlohmann's
// "[json.exception.parse_error.101] " prefix.
Error json_error(const std::string& name, const json::exception& e) {
  std::string m = e.what();
  if (auto p = m.find("] "); p != std::string::npos) m = m.substr(p + 2);
  return Error(name + ": " + m);
}

[[noreturn]] void too_deep(const std::string& name) {
  throw Error(name + ": JSON nests deeper than " + std::to_string(kMaxDepth) + " levels");
}

// Rejects nesting deeper than kMaxDepth before the JSON parser sees the text.
void check_depth(std::string_view text, const std::string& name) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : text) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) too_deep(name);
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
}

// What both readings ask of the text before parsing: at most kMaxConfigBytes, and no NUL byte
// (JSON allows none outside a \u escape, and nlohmann's lexer would take one for the end of
// the input, accepting `{...}\0anything`).
void check_text(std::string_view text, const std::string& name) {
  if (text.size() > kMaxConfigBytes)
    throw Error(name + ": " + std::to_string(text.size()) + " bytes is larger than the " +
                std::to_string(kMaxConfigBytes >> 20) + " MiB nook accepts");
  if (auto p = text.find('\0'); p != std::string_view::npos)
    throw Error(name + ": byte " + std::to_string(p) + " is a NUL, which JSON does not allow");
}

json parse_json(std::string_view text, const std::string& name) {
  check_text(text, name);
  check_depth(text, name);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw json_error(name, e);
  }
}

// The rules of a mounts entry, whichever reader found its members (ConfigReader or the DOM
// loop of config_from_json): the destination is required and not empty, and a relative one
// is relative to "/" (runtime-spec 1.1). `present`: entry `i` has the member. (The JSON
// pointer is made for an error only: this runs once per mount.)
void check_destination(const Reader& r, size_t i, bool present, std::string& d) {
  if (!present) r.bad(idx("/mounts", i) + "/destination", "required property is missing");
  if (d.empty()) r.bad(idx("/mounts", i) + "/destination", "destination is empty");
  if (d[0] != '/') d.insert(0, 1, '/');
}

// A mount's ID mappings (an ID-mapped mount): uidMappings and gidMappings go together
// (runtime-spec: "it MUST be specified along with gidMappings"); each was range-checked as
// linux.uidMappings are (parse_mappings). (ConfigReader leaves entries with mappings to the
// DOM loop.)
void check_mappings(const Reader& r, const std::string& ip, const Mount& m) {
  if (m.uid_mappings.empty() != m.gid_mappings.empty())
    r.bad(join(ip, m.uid_mappings.empty() ? "uidMappings" : "gidMappings"),
          m.uid_mappings.empty() ? "gidMappings are given without uidMappings"
                                 : "uidMappings are given without gidMappings");
}

// The rules of ID-mapped mounts across keys, once linux is read: bind mounts only (as runc:
// the mapping is set on a clone of the source's mounts), and the idmap/ridmap options without
// mappings of their own take the container's user namespace, so there must be one
// (runtime-spec: "an error MUST be returned").
void check_idmapped_mounts(const Reader& r, const Config& c) {
  for (size_t i = 0; i < c.mounts.size(); i++) {
    const Mount& m = c.mounts[i];
    bool option = false, bind = m.type == "bind";
    for (auto& o : m.options) {
      option = option || o == "idmap" || o == "ridmap";
      bind = bind || o == "bind" || o == "rbind";
    }
    bool mappings = !m.uid_mappings.empty();
    if (!option && !mappings) continue;
    std::string ip = idx("/mounts", i);
    if (!bind)
      r.bad(mappings ? join(ip, "uidMappings") : join(ip, "options"),
            "ID-mapped mounts are bind mounts only (options bind or rbind)");
    if (!mappings && !c.linux.find_ns(NsType::user))
      r.bad(join(ip, "options"),
            "idmap without uidMappings and gidMappings takes the container's user namespace, "
            "but linux.namespaces has none");
  }
}

// The mounts entries as ConfigReader read them, not yet checked.
struct MountEntries {
  std::vector<Mount> entries;
  std::vector<bool> has_destination;
};

// Thrown by ConfigReader when a mounts entry is not of the plain shape it reads itself; the
// document is then read again through parse_json and the DOM code, which gives the exact
// reading or error for any shape.
struct NotPlain {};

// One SAX pass over config.json (nlohmann's lexer and parser, no DOM for mounts). It builds
// the DOM of everything but the top-level "mounts" array, whose entries it reads straight into
// Mounts: a bind-mount-heavy config (Buildah's, Slurm's) no longer builds, walks and frees one
// tree per entry (docs/performance.md: parse cost per mount). It also enforces kMaxDepth, which
// check_depth does on the DOM path. An entry qualifies when it is an object whose
// "destination", "type" and "source" are strings, "options" an array of strings, no key
// repeats and there are no ID mappings; anything else (and a second "mounts" key) throws
// NotPlain. What an entry means is decided for both readings by check_destination.
class ConfigReader {
 public:
  ConfigReader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  json doc;             // the document; "mounts" is null in it when mounts_read
  MountEntries mounts;  // the entries, in order, when mounts_read
  bool mounts_read = false;

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool v) { return scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return scalar(json(v)); }
  bool binary(json::binary_t&) { throw NotPlain{}; }  // not produced by the JSON lexer

  bool string(std::string& v) {
    switch (mode_) {
      case Mode::dom:
        return scalar(json(std::move(v)));
      case Mode::entry:
        if (field_ == Field::options) throw NotPlain{};
        field_str() = std::move(v);
        return true;
      case Mode::options:
        entry_.options.push_back(std::move(v));
        return true;
      case Mode::skip:
        return skip_scalar();
      case Mode::mounts:
        throw NotPlain{};
    }
    return true;
  }

  bool start_object(size_t) { return open(json::value_t::object); }
  bool start_array(size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    switch (mode_) {
      case Mode::dom:
        if (stack_.size() == 1 && k == "mounts") {
          if (mounts_key_) throw NotPlain{};
          mounts_key_ = pending_mounts_ = true;
        }
        member_ =
            &stack_.back()->get_ref<json::object_t&>().emplace(std::move(k), json()).first->second;
        return true;
      case Mode::entry:
        if (k == "destination")
          field_ = Field::destination;
        else if (k == "type")
          field_ = Field::type;
        else if (k == "source")
          field_ = Field::source;
        else if (k == "options")
          field_ = Field::options;
        else if (k == "uidMappings" || k == "gidMappings")
          throw NotPlain{};
        else {
          mode_ = Mode::skip;  // an unknown member: its value is ignored, as on the DOM path
          skip_depth_ = 0;
          return true;
        }
        if (seen_ & (1u << static_cast<unsigned>(field_))) throw NotPlain{};
        seen_ |= 1u << static_cast<unsigned>(field_);
        return true;
      default:
        return true;  // skip: keys of ignored values
    }
  }

  // The DOM path checks the depth of the whole text before it parses: a text both too deep
  // and malformed gets the depth error there, so it gets it here too.
  bool parse_error(size_t, const std::string&, const json::exception& e) {
    check_depth(text_, name_);
    throw json_error(name_, e);
  }

 private:
  enum class Mode { dom, mounts, entry, options, skip };
  enum class Field : unsigned { destination, type, source, options };

  // An object or array starts: a DOM container, a mounts entry, its options, or more of an
  // ignored value. The JSON parser has checked the brackets match, so close() need not.
  bool open(json::value_t t) {
    if (++depth_ > kMaxDepth) too_deep(name_);
    bool array = t == json::value_t::array;
    switch (mode_) {
      case Mode::dom:
        if (array && pending_mounts_) {
          mode_ = Mode::mounts;
          mounts.entries.reserve(16);
        } else {
          stack_.push_back(place(json(t)));
        }
        pending_mounts_ = false;
        return true;
      case Mode::mounts:
        if (array) throw NotPlain{};
        entry_ = Mount{};
        seen_ = 0;
        mode_ = Mode::entry;
        return true;
      case Mode::entry:
        if (!array || field_ != Field::options) throw NotPlain{};
        mode_ = Mode::options;
        return true;
      case Mode::options:
        throw NotPlain{};
      case Mode::skip:
        skip_depth_++;
        return true;
    }
    return true;
  }
  bool close() {
    depth_--;
    switch (mode_) {
      case Mode::dom:
        stack_.pop_back();
        return true;
      case Mode::mounts:  // the end of the mounts array
        mode_ = Mode::dom;
        mounts_read = true;
        return true;
      case Mode::entry:
        mounts.entries.push_back(std::move(entry_));
        mounts.has_destination.push_back(seen_ & 1u << static_cast<unsigned>(Field::destination));
        mode_ = Mode::mounts;
        return true;
      case Mode::options:
        mode_ = Mode::entry;
        return true;
      case Mode::skip:
        return skip_end();
    }
    return true;
  }
  bool scalar(json&& v) {
    if (mode_ == Mode::skip) return skip_scalar();
    if (mode_ != Mode::dom) throw NotPlain{};
    pending_mounts_ = false;
    place(std::move(v));
    return true;
  }
  bool skip_scalar() {
    if (skip_depth_ == 0) mode_ = Mode::entry;
    return true;
  }
  bool skip_end() {
    if (--skip_depth_ == 0) mode_ = Mode::entry;
    return true;
  }
  std::string& field_str() {
    switch (field_) {
      case Field::type:
        return entry_.type;
      case Field::source:
        return entry_.source;
      default:
        return entry_.destination;
    }
  }
  // Puts a value where the DOM parser would: the root, the next array element, or the
  // member whose key came last (a repeated key keeps its place and takes the last value).
  json* place(json&& v) {
    if (stack_.empty()) {
      doc = std::move(v);
      return &doc;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      auto& a = top.get_ref<json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    *member_ = std::move(v);
    return member_;
  }

  std::string_view text_;
  const std::string& name_;
  std::vector<json*> stack_;
  json* member_ = nullptr;
  Mode mode_ = Mode::dom;
  Field field_ = Field::destination;
  Mount entry_;
  unsigned seen_ = 0;
  int depth_ = 0, skip_depth_ = 0;
  bool mounts_key_ = false, pending_mounts_ = false;
};

}  // namespace

namespace {

// MAJOR.MINOR.PATCH (digits only: no sign, no blank, as sscanf would take) and an optional
// non-empty "-..." or "+..." suffix. False for anything else.
bool parse_version(std::string_view v, unsigned long (&num)[3]) {
  size_t i = 0;
  for (int k = 0; k < 3; k++) {
    if (k > 0 && (i >= v.size() || v[i++] != '.')) return false;
    size_t start = i;
    num[k] = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9' && i - start < 9)
      num[k] = num[k] * 10 + static_cast<unsigned long>(v[i++] - '0');
    if (i == start || (i < v.size() && v[i] >= '0' && v[i] <= '9')) return false;
  }
  if (i == v.size()) return true;
  return (v[i] == '-' || v[i] == '+') && i + 1 < v.size();
}

}  // namespace

bool oci_version_supported(const std::string& v) {
  unsigned long num[3];
  return parse_version(v, num) && num[0] == 1;
}

bool oci_version_newer(const std::string& v) {
  unsigned long num[3];
  return parse_version(v, num) && num[0] == 1 && num[1] > kOciVersionMinor;
}

namespace {

// root: the path required and not empty.
Root parse_root(const Reader& r, const json& j) {
  r.object(j, "/root");
  Root root;
  root.path = r.str(r.required(j, "path", "/root"), "/root/path");
  if (root.path.empty()) r.bad("/root/path", "path is empty");
  if (auto* v = Reader::get(j, "readonly")) root.readonly = r.boolean(*v, "/root/readonly");
  return root;
}

// One entry of mounts as the DOM holds it (an entry ConfigReader left to the DOM: any shape).
Mount parse_mount(const Reader& r, const json& e, size_t i) {
  std::string ip = idx("/mounts", i);
  r.object(e, ip);
  Mount m;
  auto* d = Reader::get(e, "destination");
  if (d) m.destination = r.str(*d, join(ip, "destination"));
  check_destination(r, i, d != nullptr, m.destination);
  if (auto* x = Reader::get(e, "type")) m.type = r.str(*x, join(ip, "type"));
  if (auto* x = Reader::get(e, "source")) m.source = r.str(*x, join(ip, "source"));
  if (auto* x = Reader::get(e, "options")) m.options = r.strings(*x, join(ip, "options"));
  if (auto* x = Reader::get(e, "uidMappings"))
    m.uid_mappings = parse_mappings(r, *x, join(ip, "uidMappings"));
  if (auto* x = Reader::get(e, "gidMappings"))
    m.gid_mappings = parse_mappings(r, *x, join(ip, "gidMappings"));
  check_mappings(r, ip, m);
  return m;
}

Hooks parse_hooks(const Reader& r, const json& j) {
  r.object(j, "/hooks");
  Hooks hooks;
  for (auto [key, list] :
       {std::pair{"prestart", &hooks.prestart}, std::pair{"createRuntime", &hooks.create_runtime},
        std::pair{"createContainer", &hooks.create_container},
        std::pair{"startContainer", &hooks.start_container},
        std::pair{"poststart", &hooks.poststart}, std::pair{"poststop", &hooks.poststop}}) {
    auto* h = Reader::get(j, key);
    if (!h) continue;
    std::string hp = join("/hooks", key);
    r.array(*h, hp);
    for (size_t i = 0; i < h->size(); i++) list->push_back(parse_hook(r, (*h)[i], idx(hp, i)));
  }
  return hooks;
}

// The typed config from its DOM. `mounts` holds the entries ConfigReader read (the DOM's
// "mounts" is then null); without it they are read from the DOM. Either way each entry is
// checked by check_destination and check_mappings, at its place in the order of errors.
Config config_from_json(const json& j, MountEntries* mounts, const std::string& name) {
  Reader r(name);
  r.object(j, "");
  Config c;
  c.oci_version = r.str(r.required(j, "ociVersion", ""), "/ociVersion");
  if (!oci_version_supported(c.oci_version)) {
    unsigned long num[3];
    if (!parse_version(c.oci_version, num))
      r.bad("/ociVersion", "version \"" + c.oci_version +
                               "\" is not a runtime-spec version (MAJOR.MINOR.PATCH, optionally "
                               "with a -pre-release or +build suffix)");
    r.bad("/ociVersion", "version \"" + c.oci_version + "\" is not supported: nook accepts " +
                             kOciVersionMin + " and every later 1.x version (it implements " +
                             kOciVersion + "); major version " + std::to_string(num[0]) +
                             " is incompatible with 1.x by definition");
  }
  c.root = parse_root(r, r.required(j, "root", ""));
  if (auto* v = Reader::get(j, "process")) c.process = parse_process_json(r, *v, "/process");
  if (auto* v = Reader::get(j, "hostname")) c.hostname = r.str(*v, "/hostname");
  if (auto* v = Reader::get(j, "domainname")) c.domainname = r.str(*v, "/domainname");
  if (c.hostname.size() > 64) r.bad("/hostname", "longer than 64 bytes");
  if (c.domainname.size() > 64) r.bad("/domainname", "longer than 64 bytes");
  if (mounts) {
    c.mounts = std::move(mounts->entries);
    for (size_t i = 0; i < c.mounts.size(); i++)
      check_destination(r, i, mounts->has_destination[i], c.mounts[i].destination);
  } else if (auto* v = Reader::get(j, "mounts")) {
    r.array(*v, "/mounts");
    c.mounts.reserve(v->size());
    for (size_t i = 0; i < v->size(); i++) c.mounts.push_back(parse_mount(r, (*v)[i], i));
  }
  if (auto* v = Reader::get(j, "hooks")) c.hooks = parse_hooks(r, *v);
  if (auto* v = Reader::get(j, "annotations")) c.annotations = r.string_map(*v, "/annotations");
  if (auto* v = Reader::get(j, "linux")) {
    c.linux = parse_linux(r, *v, "/linux");
    c.has_linux = true;
  }
  check_idmapped_mounts(r, c);
  // Setting a hostname outside a UTS namespace of the container's would rename the host
  // (as root) or fail half-way (unprivileged): refuse it up front, as runc does.
  if (!c.linux.find_ns(NsType::uts)) {
    if (!c.hostname.empty())
      r.bad("/hostname", "a hostname needs a uts namespace in linux.namespaces");
    if (!c.domainname.empty())
      r.bad("/domainname", "a domainname needs a uts namespace in linux.namespaces");
  }
  for (auto* key : {"solaris", "windows", "vm", "zos", "freebsd"})
    if (Reader::get(j, key)) r.bad(std::string("/") + key, key_reason(std::string("/") + key));
  return c;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& name, bool* read_by_dom) {
  if (read_by_dom) *read_by_dom = true;
  check_text(text, name);  // no NUL: the SAX pass reads the whole text, as check_depth does
  ConfigReader rd(text, name);
  try {
    json::sax_parse(text, &rd);
  } catch (const NotPlain&) {
    return parse_config_dom(text, name);
  }
  if (read_by_dom)  // a "mounts" that is not an array is in the DOM (for its error)
    *read_by_dom = !rd.mounts_read && rd.doc.is_object() && Reader::get(rd.doc, "mounts");
  return config_from_json(rd.doc, rd.mounts_read ? &rd.mounts : nullptr, name);
}

Config parse_config_dom(std::string_view text, const std::string& name) {
  return config_from_json(parse_json(text, name), nullptr, name);
}

Process parse_process(std::string_view text, const std::string& name) {
  json j = parse_json(text, name);
  Reader r(name);
  return parse_process_json(r, j, "");
}

Config load_bundle_config(const std::string& bundle, std::string* raw, const std::string& file) {
  std::string path = file.empty() ? bundle + "/config.json" : file;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    struct stat st;
    if (::stat(bundle.c_str(), &st) != 0) throw_sys("bundle", bundle, errno);
    if (!S_ISDIR(st.st_mode)) fail("bundle " + bundle + ": not a directory");
    throw_sys("open", path, e);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_sys("fstat", path);
  if (!S_ISREG(st.st_mode)) fail(path + ": not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes)
    fail(path + ": " + std::to_string(st.st_size) + " bytes is larger than the " +
         std::to_string(kMaxConfigBytes >> 20) + " MiB nook accepts");
  std::string text;
  text.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  Config c = parse_config(text, path);
  if (c.root.path[0] != '/') c.root.path = bundle + "/" + c.root.path;
  if (raw) *raw = std::move(text);
  return c;
}

}  // namespace nook
