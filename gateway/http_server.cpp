#include "gateway/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>

namespace sipgw::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer::Handler& handler) : stream_(std::move(socket)), handler_(handler) {}

  void start() {
    stream_.expires_after(std::chrono::seconds(10));
    parser_.body_limit(8192);
    http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->respond();
    });
  }

 private:
  void respond() {
    const auto& request = parser_.get();
    response_.version(request.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "sipgw");
    HttpRequest r{std::string(request.method_string()), std::string(request.target()),
                  std::string(request[http::field::authorization])};
    if (auto q = r.path.find('?'); q != std::string::npos) r.path.resize(q);
    HttpResponse answer = handler_(r);
    response_.result(answer.status);
    response_.set(http::field::content_type, answer.content_type);
    if (!answer.www_authenticate.empty()) response_.set(http::field::www_authenticate, answer.www_authenticate);
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  const HttpServer::Handler& handler_;
};

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, const std::string& address, unsigned short port, Handler handler)
    : acceptor_(io, tcp::endpoint(boost::asio::ip::make_address(address), port)), retry_(io), handler_(std::move(handler)) {
  accept();
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void HttpServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopped
    if (ec) {
      // Out of descriptors (or another passing error): the endpoint must
      // come back once there are some again, and must not spin meanwhile.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](beast::error_code waited) {
        if (!waited) accept();
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), handler_)->start();
    accept();
  });
}

}  // namespace sipgw::gateway
