/* Every Node-API function the module calls, in one list: napi_windows.c resolves exactly these at
 * run time. A function used in lock.c but missing here fails to link on Windows, never silently. */
#ifndef TL_NAPI_FUNCTIONS_H
#define TL_NAPI_FUNCTIONS_H

#define TL_NAPI_FUNCTIONS(X)            \
  X(napi_call_function)                 \
  X(napi_call_threadsafe_function)      \
  X(napi_create_array)                  \
  X(napi_create_double)                 \
  X(napi_create_error)                  \
  X(napi_create_function)               \
  X(napi_create_int64)                  \
  X(napi_create_object)                 \
  X(napi_create_string_utf8)            \
  X(napi_create_threadsafe_function)    \
  X(napi_get_and_clear_last_exception)  \
  X(napi_get_boolean)                   \
  X(napi_get_cb_info)                   \
  X(napi_get_global)                    \
  X(napi_get_null)                      \
  X(napi_get_undefined)                 \
  X(napi_get_value_bool)                \
  X(napi_get_value_int64)               \
  X(napi_get_value_string_utf8)         \
  X(napi_release_threadsafe_function)   \
  X(napi_set_element)                   \
  X(napi_set_named_property)            \
  X(napi_throw)                         \
  X(napi_throw_error)                   \
  X(napi_throw_type_error)              \
  X(napi_typeof)                        \
  X(napi_unref_threadsafe_function)

#endif
