/* A tiny DLL with one export: the PE library fixture. */
#include <windows.h>

__declspec(dllexport) int vaultsign_fixture_add(int a, int b) { return a + b; }

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance;
  (void)reason;
  (void)reserved;
  return TRUE;
}
