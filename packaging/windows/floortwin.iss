; Inno Setup script for floortwin on Windows (not verified here: no Windows machine; see packaging/README.md).
; Build: packaging\windows\build.ps1  (runs PyInstaller with packaging\floortwin.spec, then this script)
#define AppVersion GetEnv("FLOORTWIN_VERSION")
#if AppVersion == ""
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{7C6B9E52-4B3A-4E5A-9E0B-F1005D1F7A11}
AppName=floortwin
AppVersion={#AppVersion}
AppPublisher=floortwin developers
DefaultDirName={autopf}\floortwin
DefaultGroupName=floortwin
OutputDir=..\..\dist
OutputBaseFilename=floortwin-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64
ArchitecturesAllowed=x64
PrivilegesRequiredOverridesAllowed=dialog
LicenseFile=..\..\LICENSE
UninstallDisplayIcon={app}\floortwin.exe

[Files]
Source: "..\..\dist\floortwin\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\floortwin"; Filename: "{app}\floortwin.exe"
Name: "{group}\floortwin demo plant"; Filename: "{app}\floortwin.exe"; Parameters: "--demo"
Name: "{autodesktop}\floortwin"; Filename: "{app}\floortwin.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Run]
Filename: "{app}\floortwin.exe"; Parameters: "--demo"; Description: "Open the demo plant"; Flags: nowait postinstall skipifsilent
