// A minimal HTTP/1.1 server on the Asio io_context (Boost.Beast) for
// /metrics, /healthz and the call outcome API. One request per connection,
// bodies of 8 KB at most; it runs on the Asio thread, never on the SIP
// thread.
#pragma once

#include <boost/asio.hpp>

#include <functional>
#include <string>

namespace sipgw::gateway {

struct HttpRequest {
  std::string method;         // GET, HEAD, POST, ...
  std::string path;           // without the query
  std::string authorization;  // the Authorization header, or empty
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string www_authenticate{};  // for a 401
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest& request)>;

  // Listens on address:port right away; throws boost::system::system_error
  // when it cannot bind (start-up only).
  HttpServer(boost::asio::io_context& io, const std::string& address, unsigned short port, Handler handler);
  void stop();

 private:
  void accept();
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after an accept error (EMFILE): try again, without spinning
  Handler handler_;
};

}  // namespace sipgw::gateway
