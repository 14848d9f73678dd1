#pragma once
// Requests recd makes of its Recorder on its own account, for a key, the tray
// or its menu: nobody waits for the answer, so a failure, whether thrown at
// once (refused) or answered later (a start that found no audio), goes to the
// log as an error naming what was asked, and success to `done`.

#include "daemon/engine/Log.hpp"
#include "daemon/service/Recorder.hpp"

#include <exception>
#include <functional>
#include <string>

namespace recd {

inline std::string describe(std::exception_ptr error)
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an unknown error";
    }
}

// Runs call(reply) with a Reply<T> that logs; `failed` runs after a failure.
template <class T, class Call>
void ownRequest(const std::string& what, Call call, std::function<void(const T&)> done = {},
                std::function<void()> failed = {})
{
    const auto fail = [what, failed](std::exception_ptr error) {
        log().error("{} failed: {}", what, describe(error));
        if (failed)
            failed();
    };
    try {
        call(Reply<T>([done, fail](T value, std::exception_ptr error) {
            if (error)
                return fail(error);
            if (done)
                done(value);
        }));
    } catch (...) {
        fail(std::current_exception());
    }
}

} // namespace recd
