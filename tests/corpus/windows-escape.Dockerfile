# escape=`
# A Windows image: the backtick is the escape character so paths can use backslashes.
FROM windows/servercore:ltsc2022

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV APP_HOME=C:\app `
    LOG_DIR=C:\app\logs

WORKDIR C:\app

ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://downloads.example.com/agent/agent-1.8.0-win64.zip C:\temp\agent.zip

RUN Expand-Archive -Path C:\temp\agent.zip -DestinationPath $env:APP_HOME ; `
    Remove-Item C:\temp\agent.zip -Force ; `
    New-Item -ItemType Directory -Path $env:LOG_DIR | Out-Null

COPY config\agent.yaml C:\app\config\
COPY ["scripts\\start agent.ps1", "C:\\app\\"]

RUN setx /M PATH $($env:PATH + ';C:\app\bin')

VOLUME C:\app\logs
EXPOSE 9100
CMD ["powershell", "-File", "C:\\app\\start agent.ps1"]
