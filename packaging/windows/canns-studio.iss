; Inno Setup script for CANN Studio on Windows (not built in this repository's CI: it needs Windows).
;
;   1. On Windows, build the bundle:  .venv\Scripts\python -m PyInstaller --noconfirm packaging\canns-studio.spec
;      -> dist\canns-studio\canns-studio.exe (console) and canns-studio-gui.exe (no console window)
;   2. Compile this script:           iscc /DAppVersion=0.1.0 packaging\windows\canns-studio.iss
;      -> dist\CANN-Studio-0.1.0-setup.exe
;
; The installer works per user (no administrator rights; the user may choose "all users"), adds a
; Start-menu entry and an optional desktop icon that start canns-studio-gui.exe, and registers .canns
; session files so that double-clicking one opens it in CANN Studio. Uninstalling removes all of it
; (the per-user log and numba cache in %LOCALAPPDATA%\canns-studio stay, as user data).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "CANN Studio"
#define GuiExe "canns-studio-gui.exe"
#define ProgId "CANNStudio.Session"

[Setup]
AppId={{6B7E3C1A-5D2F-4C8B-9E41-CA3D57A1F0B2}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=CANN Studio
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile=..\..\build\canns-studio\icons\canns-studio.ico
UninstallDisplayIcon={app}\{#GuiExe}
OutputDir=..\..\dist
OutputBaseFilename=CANN-Studio-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\canns-studio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#GuiExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Registry]
; .canns -> CANNStudio.Session -> "canns-studio-gui.exe" "%1"  (HKA: per-user or machine-wide, as installed)
Root: HKA; Subkey: "Software\Classes\.canns\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "CANN Studio session"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#GuiExe},0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#GuiExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#GuiExe}\SupportedTypes"; ValueType: string; ValueName: ".canns"; ValueData: ""

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
