#include "daemon/engine/file/Destination.hpp"

namespace recd {

Destination::Destination() : container_(&wavContainer()) {}

Destination Destination::file(std::filesystem::path path, const Container& container)
{
    Destination d;
    d.path_ = std::move(path);
    d.container_ = &container;
    return d;
}

Destination Destination::descriptor(std::shared_ptr<const int> fd, Framing framing)
{
    Destination d;
    d.path_ = "-";
    d.container_ = &wavContainer();
    d.fd_ = std::move(fd);
    d.framing_ = framing;
    return d;
}

Destination Destination::withPath(std::filesystem::path path) const
{
    Destination d = *this;
    d.path_ = std::move(path);
    return d;
}

} // namespace recd
