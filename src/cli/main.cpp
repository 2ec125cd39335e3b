// nook: the command line. Parses runc's global flags and dispatches to one verb.
#include "cli.hpp"
#include "error.hpp"

int main(int argc, char** argv) {
  using namespace nook;
  using namespace nook::cli;
  Globals g;
  CLI::App app{"nook: an unprivileged OCI container runtime (runc-compatible command line)",
               "nook"};
  std::string verb;
  std::vector<std::string> args = normalise(argc, argv, &verb);
  auto actions = build_app(app, g, verb);
  try {
    app.parse(args);
    g.log.json = g.log_format == "json";
    log::init(g.log);
    for (auto* sub : app.get_subcommands()) actions.at(sub->get_name())();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    g.log.json = g.log_format == "json";
    log::init(g.log);
    log::error(e.what());
    return 1;
  } catch (const ExecError& e) {
    log::error(e.what());
    return 127;
  } catch (const Error& e) {
    log::error(e.what());
    return 1;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  return g.exit_code;
}
