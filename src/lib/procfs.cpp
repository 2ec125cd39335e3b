// /proc readers: ID maps (procfs.hpp).
#include "procfs.hpp"

#include <charconv>

#include "fileio.hpp"

namespace nook {

std::vector<IdMapping> parse_id_map(std::string_view text) {
  std::vector<IdMapping> out;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    uint32_t v[3];
    const char* p = line.data();
    const char* e = line.data() + line.size();
    int got = 0;
    for (; got < 3; got++) {
      while (p < e && *p == ' ') p++;
      auto r = std::from_chars(p, e, v[got]);
      if (r.ec != std::errc{}) break;
      p = r.ptr;
    }
    if (got == 3) out.push_back({v[0], v[1], v[2]});
  }
  return out;
}

std::vector<IdMapping> read_id_map(const std::string& pid_dir, const char* file) {
  return parse_id_map(read_file_or_throw(pid_dir + "/" + file));
}

std::vector<IdMapping> own_uid_map() {
  auto s = read_file("/proc/self/uid_map");
  return s ? parse_id_map(*s) : std::vector<IdMapping>{};
}

bool is_initial_map(const std::vector<IdMapping>& map) {
  return map.size() == 1 && map[0].container_id == 0 && map[0].host_id == 0 &&
         map[0].size == 4294967295u;
}

}  // namespace nook
